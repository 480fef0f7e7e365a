"""Vietnamese personal names, streets and address parts for demo contacts.

Family-name weights follow the commonly cited national shares, so a few surnames dominate the
way they do in a real hotline log.
"""

# (family name, relative weight); Nguyễn alone is roughly 38% of the population.
FAMILY_NAMES: tuple[tuple[str, int], ...] = (
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 70),
    ("Hoàng", 30),
    ("Huỳnh", 22),
    ("Phan", 45),
    ("Vũ", 25),
    ("Võ", 20),
    ("Đặng", 21),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 13),
    ("Ngô", 13),
    ("Dương", 10),
    ("Lý", 5),
    ("Đinh", 6),
    ("Trương", 6),
    ("Mai", 4),
    ("Lương", 4),
    ("Tạ", 3),
    ("Đào", 4),
    ("Cao", 3),
    ("Lâm", 3),
    ("Tô", 2),
    ("Hà", 3),
    ("Kiều", 1),
    ("Chu", 2),
    ("Quách", 1),
    ("Thái", 2),
)

MALE_MIDDLE_NAMES: tuple[str, ...] = (
    "Văn", "Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Công", "Ngọc",
    "Xuân", "Anh", "Trọng", "Tuấn", "Mạnh", "Đình", "Bá", "Tiến", "Hoàng", "Thanh",
)  # fmt: skip

FEMALE_MIDDLE_NAMES: tuple[str, ...] = (
    "Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Thùy", "Kim", "Mỹ",
    "Phương", "Hồng", "Bích", "Diệu", "Khánh", "Minh", "Hoài", "Quỳnh", "Bảo", "Hải",
)  # fmt: skip

MALE_GIVEN_NAMES: tuple[str, ...] = (
    "Anh", "Bảo", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Định", "Đông", "Giang",
    "Hải", "Hiếu", "Hòa", "Hùng", "Huy", "Khang", "Khánh", "Khoa", "Kiên", "Lâm",
    "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Nhân", "Phong", "Phúc", "Quân", "Quang",
    "Sơn", "Tài", "Tâm", "Thắng", "Thành", "Thịnh", "Toàn", "Trung", "Tú", "Tuấn",
    "Việt", "Vinh", "Vũ", "Hưng", "Hậu", "Lợi", "Tùng", "Sang", "Thái", "Hoàng",
)  # fmt: skip

FEMALE_GIVEN_NAMES: tuple[str, ...] = (
    "An", "Anh", "Bích", "Châu", "Chi", "Dung", "Duyên", "Giang", "Hà", "Hạnh",
    "Hằng", "Hiền", "Hoa", "Hồng", "Huệ", "Hương", "Huyền", "Lan", "Liên", "Linh",
    "Loan", "Mai", "My", "Nga", "Ngân", "Ngọc", "Nhung", "Oanh", "Phương", "Quyên",
    "Quỳnh", "Tâm", "Thảo", "Thanh", "Thu", "Thúy", "Trang", "Trinh", "Tuyết", "Uyên",
    "Vân", "Vy", "Yến", "Xuân", "Nhi", "Hậu", "Diễm", "Lý", "Thơ", "Tiên",
)  # fmt: skip

# Streets of the former Bình Dương province (Thủ Dầu Một, Dĩ An, Thuận An, Bến Cát, Tân Uyên).
BINH_DUONG_STREETS: tuple[str, ...] = (
    "Đại lộ Bình Dương", "Phú Lợi", "Yersin", "Cách Mạng Tháng Tám", "Nguyễn Văn Tiết",
    "Lê Hồng Phong", "Nguyễn An Ninh", "Hùng Vương", "Thích Quảng Đức", "Huỳnh Văn Lũy",
    "Mỹ Phước - Tân Vạn", "Trần Văn Ơn", "Nguyễn Thị Minh Khai", "30 Tháng 4", "Ngô Quyền",
    "Lê Thị Trung", "Nguyễn Du", "Trần Hưng Đạo", "ĐT743", "ĐT741", "ĐT746", "DT747B",
    "Nguyễn Trãi", "Lý Thường Kiệt", "Bùi Quốc Khánh", "Phạm Ngọc Thạch", "Nguyễn Chí Thanh",
    "Lê Chí Dân", "Hồ Văn Cống", "Võ Văn Kiệt", "Trần Quang Diệu", "Quốc lộ 13",
    "Quốc lộ 1K", "Nguyễn Thái Học", "Tô Vĩnh Diện", "Lê Văn Tách", "Thủ Khoa Huân",
    "Bình Đường 3", "Số 9", "D1", "N4",
)  # fmt: skip

HA_NOI_STREETS: tuple[str, ...] = (
    "Kim Mã", "Đội Cấn", "Giảng Võ", "Láng Hạ", "Tây Sơn", "Nguyễn Trãi", "Trường Chinh",
    "Minh Khai", "Bạch Mai", "Lạc Trung", "Kim Ngưu", "Trần Khát Chân", "Huế",
    "Hàng Bông", "Hàng Gai", "Lò Đúc", "Nguyễn Lương Bằng", "Khâm Thiên", "Xã Đàn",
    "Thái Hà", "Chùa Bộc", "Cầu Giấy", "Xuân Thủy", "Hoàng Quốc Việt", "Trần Duy Hưng",
    "Nguyễn Chí Thanh", "Lạc Long Quân", "Âu Cơ", "Thụy Khuê", "Hoàng Hoa Thám",
    "Nguyễn Văn Cừ", "Ngọc Lâm", "Ngọc Thụy", "Giải Phóng", "Định Công", "Tam Trinh",
    "Lĩnh Nam", "Quang Trung", "Tô Hiệu", "Vạn Phúc", "Phạm Văn Đồng", "Hồ Tùng Mậu",
    "Mỹ Đình", "Nguyễn Khang", "Khương Đình", "Vũ Tông Phan", "Kim Giang", "Tân Mai",
)  # fmt: skip

BINH_DUONG_QUARTERS: tuple[str, ...] = (
    "khu phố 1", "khu phố 2", "khu phố 3", "khu phố 4", "khu phố 5", "khu phố Bình Đức",
    "khu phố Tân Phước", "khu phố Đông Tân", "khu phố Nhị Đồng", "ấp 2", "ấp 3",
    "ấp Bến Tượng", "khu phố Hòa Lân", "khu phố Thạnh Hòa",
)  # fmt: skip

# Former Bình Dương wards after the 2025 merger into Hồ Chí Minh City (province code 79).
# Weights favour the dense industrial cities where most migrant workers rented rooms in 2021.
BINH_DUONG_WARDS: tuple[tuple[str, int], ...] = (
    ("Phường Thủ Dầu Một", 8), ("Phường Phú Lợi", 6), ("Phường Bình Dương", 5),
    ("Phường Chánh Hiệp", 4), ("Phường Phú An", 3), ("Phường Dĩ An", 10),
    ("Phường Đông Hòa", 8), ("Phường Tân Đông Hiệp", 8), ("Phường Thuận An", 10),
    ("Phường Thuận Giao", 9), ("Phường Bình Hòa", 8), ("Phường Lái Thiêu", 6),
    ("Phường An Phú", 8), ("Phường Bến Cát", 5), ("Phường Chánh Phú Hòa", 3),
    ("Phường Long Nguyên", 2), ("Phường Tây Nam", 3), ("Phường Thới Hòa", 4),
    ("Phường Hòa Lợi", 4), ("Phường Tân Uyên", 5), ("Phường Tân Hiệp", 3),
    ("Phường Tân Khánh", 3), ("Phường Vĩnh Tân", 3), ("Phường Bình Cơ", 1),
    ("Xã Bàu Bàng", 2), ("Xã Trừ Văn Thố", 1), ("Xã Bắc Tân Uyên", 1),
    ("Xã Thường Tân", 1), ("Xã Phú Giáo", 1), ("Xã Phước Thành", 1), ("Xã An Long", 1),
    ("Xã Phước Hòa", 1), ("Xã Dầu Tiếng", 1), ("Xã Minh Thạnh", 1), ("Xã Long Hòa", 1),
    ("Xã Thanh An", 1),
)  # fmt: skip

# Slot vocabulary shared by the description templates.
PLACES_BINH_DUONG: tuple[str, ...] = (
    "chợ Thủ Dầu Một", "chợ Lái Thiêu", "chợ Dĩ An", "công viên Phú Cường", "bến xe Bình Dương",
    "khu công nghiệp Sóng Thần", "khu công nghiệp VSIP", "khu công nghiệp Mỹ Phước",
    "nhà văn hóa khu phố", "trường tiểu học", "siêu thị", "cây xăng", "ngã tư Chợ Đình",
    "ngã tư 550", "vòng xoay An Phú", "cầu Ông Cộ", "chợ tạm", "cổng khu trọ",
)  # fmt: skip

PLACES_HA_NOI: tuple[str, ...] = (
    "chợ Long Biên", "chợ Đồng Xuân", "công viên Thống Nhất", "hồ Hoàn Kiếm", "hồ Tây",
    "bến xe Mỹ Đình", "công viên Cầu Giấy", "hồ Linh Đàm", "công viên Yên Sở", "chợ Mơ",
    "nhà văn hóa tổ dân phố", "trường tiểu học", "siêu thị", "cây xăng", "chân cầu Vĩnh Tuy",
    "ngã tư Sở", "khu tập thể", "chợ cóc đầu ngõ",
)  # fmt: skip

SITES_BINH_DUONG: tuple[str, ...] = (
    "ký túc xá Đại học Thủ Dầu Một", "bệnh viện dã chiến số 3", "khu cách ly Becamex",
    "trường Cao đẳng Việt Nam - Singapore", "khu cách ly ở Bàu Bàng", "bệnh viện dã chiến Dĩ An",
    "trường THCS Nguyễn Văn Cừ", "nhà thi đấu tỉnh",
)  # fmt: skip

SITES_HA_NOI: tuple[str, ...] = (
    "ký túc xá Pháp Vân - Tứ Hiệp", "ký túc xá Mễ Trì", "bệnh viện dã chiến Mê Linh",
    "khu cách ly Học viện Hành chính", "trường Trung cấp Cảnh sát Sóc Sơn", "khu cách ly Phúc Thọ",
    "bệnh viện dã chiến Thạch Thất", "ký túc xá Đại học Quốc gia ở Hòa Lạc",
)  # fmt: skip

COMPANY_KINDS: tuple[str, ...] = (
    "công ty may", "công ty giày da", "công ty gỗ", "công ty điện tử", "công ty bao bì",
    "xưởng cơ khí", "công ty thực phẩm", "công ty nhựa", "xưởng dệt", "công ty logistics",
)  # fmt: skip

COMPANY_BRANDS: tuple[str, ...] = (
    "Phú Thịnh", "Tân Phát", "Hưng Long", "Minh Quang", "An Khang", "Đại Phát", "Thành Đạt",
    "Việt Hưng", "Hoàng Gia", "Kim Long", "Phước An", "Trường Thịnh", "Hòa Bình", "Sao Mai",
)  # fmt: skip

RELATIVES: tuple[str, ...] = (
    "mẹ", "bố", "ba", "má", "ông", "bà", "vợ", "chồng", "con", "em gái", "anh trai", "chị gái",
    "cô", "dì", "chú", "bác",
)  # fmt: skip

WHEN_PHRASES: tuple[str, ...] = (
    "sáng nay", "tối qua", "chiều nay", "hôm qua", "đêm qua", "hôm kia", "lúc 3h sáng",
    "2 hôm nay", "trưa nay", "đầu tuần", "cuối tuần trước", "mấy tiếng trước",
)  # fmt: skip

MONEY_AMOUNTS: tuple[str, ...] = (
    "200 nghìn", "300 nghìn", "350 nghìn", "500 nghìn", "700 nghìn", "1 triệu", "1,2 triệu",
    "1,5 triệu", "2 triệu",
)  # fmt: skip
