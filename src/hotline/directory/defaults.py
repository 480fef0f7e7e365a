"""The default categories (docs/domain.md) and a default unit tree for a province."""

from __future__ import annotations

from hotline.directory.models import Group, UnitType

# code, Vietnamese name, English name, group, default handling unit type, forwarding hours
DEFAULT_CATEGORIES: tuple[tuple[str, str, str, Group, UnitType, int], ...] = (
    ("cap_cuu", "Cấp cứu", "Medical emergency", Group.EMERGENCY, UnitType.EMERGENCY_115, 1),
    (
        "ho_tro_kho_khan",
        "Hỗ trợ khó khăn",
        "Hardship support",
        Group.HARDSHIP,
        UnitType.WARD_COMMITTEE,
        24,
    ),
    (
        "bao_cao_ca_benh",
        "Báo cáo ca bệnh F0/F1",
        "F0/F1 case report",
        Group.OTHER,
        UnitType.CDC,
        12,
    ),
    (
        "tu_van_suc_khoe",
        "Tư vấn sức khỏe",
        "Health advice",
        Group.OTHER,
        UnitType.DOCTOR_NETWORK,
        12,
    ),
    (
        "phan_anh_vi_pham",
        "Phản ánh vi phạm",
        "Violation report",
        Group.OTHER,
        UnitType.WARD_COMMITTEE,
        4,
    ),
    (
        "co_so_cach_ly",
        "Cơ sở cách ly, điều trị",
        "Isolation and treatment facilities",
        Group.OTHER,
        UnitType.HEALTH_DEPARTMENT,
        24,
    ),
    (
        "chinh_sach_ho_tro",
        "Chính sách hỗ trợ",
        "Support policies",
        Group.OTHER,
        UnitType.LABOUR_DEPARTMENT,
        48,
    ),
    ("tiem_vac_xin", "Tiêm vắc xin", "Vaccination", Group.OTHER, UnitType.CDC, 48),
    (
        "di_lai_giay_to",
        "Đi lại, giấy tờ",
        "Travel and papers",
        Group.OTHER,
        UnitType.TRANSPORT_DEPARTMENT,
        24,
    ),
    ("xet_nghiem", "Xét nghiệm", "Testing", Group.OTHER, UnitType.CDC, 24),
    ("an_ninh_trat_tu", "An ninh trật tự", "Security and order", Group.OTHER, UnitType.POLICE, 4),
    (
        "thong_tin_chi_dao",
        "Thông tin chỉ đạo",
        "Directives",
        Group.OTHER,
        UnitType.HOTLINE,
        24,
    ),
    ("khac", "Khác", "Other", Group.OTHER, UnitType.HOTLINE, 72),
)

DEFAULT_CATEGORY_CODES = tuple(c[0] for c in DEFAULT_CATEGORIES)

# Province-wide units: code suffix, Vietnamese name, type, categories they handle.
PROVINCE_UNITS: tuple[tuple[str, str, UnitType, tuple[str, ...]], ...] = (
    ("HOTLINE", "Trung tâm Tổng đài 1022", UnitType.HOTLINE, ("thong_tin_chi_dao", "khac")),
    ("115", "Trung tâm Cấp cứu 115", UnitType.EMERGENCY_115, ("cap_cuu",)),
    (
        "CDC",
        "Trung tâm Kiểm soát bệnh tật (CDC)",
        UnitType.CDC,
        ("bao_cao_ca_benh", "tiem_vac_xin", "xet_nghiem"),
    ),
    ("SYT", "Sở Y tế", UnitType.HEALTH_DEPARTMENT, ("co_so_cach_ly",)),
    (
        "SLDTBXH",
        "Sở Lao động - Thương binh và Xã hội",
        UnitType.LABOUR_DEPARTMENT,
        ("chinh_sach_ho_tro", "ho_tro_kho_khan"),
    ),
    ("SGTVT", "Sở Giao thông vận tải", UnitType.TRANSPORT_DEPARTMENT, ("di_lai_giay_to",)),
    (
        "STTTT",
        "Sở Thông tin và Truyền thông",
        UnitType.INFORMATION_DEPARTMENT,
        ("phan_anh_vi_pham",),
    ),
    ("CA", "Công an tỉnh/thành phố", UnitType.POLICE, ("an_ninh_trat_tu", "di_lai_giay_to")),
    ("BACSI", "Mạng lưới thầy thuốc đồng hành", UnitType.DOCTOR_NETWORK, ("tu_van_suc_khoe",)),
)

# Categories a ward People's Committee handles for its own ward.
WARD_COMMITTEE_CATEGORIES = ("ho_tro_kho_khan", "phan_anh_vi_pham", "bao_cao_ca_benh")
