"""What the hotline or the handling unit writes back, plus return and reject reasons.

Kept apart from ``texts`` because these are the operator's voice, not the citizen's. Slots are
the same as in ``texts`` ({ward}, {addr}, {name}, {hour}, {n}).
"""

# ruff: noqa: E501

ANSWERS: dict[str, tuple[str, ...]] = {
    "cap_cuu": (
        "Đã chuyển Trung tâm Cấp cứu 115, xe cấp cứu đã đến đưa bệnh nhân đi viện lúc {hour}.",
        "Đã kết nối 115; tổ y tế lưu động {ward} đến thở oxy tại chỗ, bệnh nhân ổn định.",
        "115 đã điều xe, bệnh nhân được chuyển bệnh viện dã chiến, gia đình đã được báo.",
        "Trạm y tế {ward} đến cấp cứu ban đầu và cấp bình oxy, tiếp tục theo dõi tại nhà.",
        "Bệnh nhân đã được đưa đi cấp cứu tại bệnh viện đa khoa, người nhà xác nhận.",
        "Đã hướng dẫn người nhà sơ cứu qua điện thoại trong lúc chờ xe 115; xe đến sau {n}0 phút.",
        "Tổ phản ứng nhanh của phường đã tiếp cận, chuyển bệnh nhân lên tầng điều trị phù hợp.",
        "Xe 115 đã đến đưa người bệnh đi viện, người nhà đã được thông báo.",
        "Liên hệ lại người gọi: bệnh nhân đã tự đến bệnh viện, đóng yêu cầu.",
    ),
    "ho_tro_kho_khan": (
        "UBND {ward} đã trao {n} phần quà gồm gạo, mì, rau củ cho gia đình.",
        "Đã chuyển danh sách cho tổ Covid cộng đồng, người dân đã nhận túi an sinh.",
        "Mặt trận Tổ quốc phường đã hỗ trợ 10 kg gạo và thực phẩm cho phòng trọ.",
        "Đã kết nối nhóm thiện nguyện giao {n}0 suất cơm cho khu trọ trong ngày.",
        "Phường đã bổ sung người dân vào danh sách hỗ trợ đợt {n}, sẽ phát trong tuần.",
        "Đã hướng dẫn người dân đến điểm siêu thị 0 đồng gần nhất và giờ mở cửa.",
        "Hội Phụ nữ phường đã mang sữa, tã cho trẻ nhỏ và bà bầu.",
        "Khu phố đã đến xác minh và hỗ trợ gạo, người dân xác nhận đã nhận.",
        "Đã chuyển chủ nhà trọ vận động giảm tiền phòng; phường hỗ trợ thêm tiền mặt theo quy định.",
    ),
    "bao_cao_ca_benh": (
        "Đã chuyển trạm y tế {ward}; đã lấy mẫu PCR và hướng dẫn cách ly tại nhà.",
        "Tổ Covid cộng đồng đã liên hệ, cấp gói thuốc điều trị tại nhà cho F0.",
        "CDC đã ghi nhận ca bệnh, khoanh vùng và lấy mẫu {n} người tiếp xúc.",
        "Đã hướng dẫn F1 tự cách ly 14 ngày và theo dõi sức khỏe, trạm y tế sẽ gọi lại.",
        "Trạm y tế đã cập nhật thông tin F0 vào hệ thống và cấp máy đo SpO2.",
        "Đã xác minh: trường hợp được phản ánh đã được cách ly tập trung từ trước.",
        "Phường đã phong tỏa tạm thời khu trọ và tổ chức xét nghiệm toàn bộ.",
        "Đã cấp giấy xác nhận hoàn thành cách ly cho người dân.",
    ),
    "tu_van_suc_khoe": (
        "Bác sĩ mạng lưới đã gọi lại tư vấn, hướng dẫn dùng hạ sốt và theo dõi SpO2 mỗi 4 giờ.",
        "Đã tư vấn dấu hiệu cần gọi cấp cứu: SpO2 dưới 94%, thở nhanh, đau ngực, lơ mơ.",
        "Bác sĩ hướng dẫn tư thế nằm sấp, bù nước, dinh dưỡng; hẹn gọi lại sau 24 giờ.",
        "Đã kết nối bác sĩ chuyên khoa nhi tư vấn liều hạ sốt theo cân nặng cho trẻ.",
        "Bác sĩ khuyên tiếp tục thuốc bệnh nền, không tự ý dùng kháng sinh, corticoid.",
        "Đã tư vấn tâm lý và cung cấp số đường dây hỗ trợ sức khỏe tâm thần.",
        "Đã hướng dẫn khám hậu Covid tại trạm y tế {ward}.",
        "Bác sĩ đánh giá nguy cơ thấp, tiếp tục theo dõi tại nhà và báo lại nếu nặng hơn.",
        "Đã chuyển nhóm chăm sóc chủ động theo dõi hằng ngày do bệnh nhân có bệnh nền.",
    ),
    "phan_anh_vi_pham": (
        "Công an {ward} đã đến kiểm tra, giải tán và lập biên bản xử phạt.",
        "Tổ kiểm tra liên ngành đã xử phạt cơ sở kinh doanh và yêu cầu đóng cửa.",
        "Đã nhắc nhở các trường hợp tụ tập, yêu cầu đeo khẩu trang và về nhà.",
        "Quản lý thị trường đã kiểm tra, xử phạt hành vi bán giá cao bất hợp lý.",
        "UBND phường đã xác minh, không phát hiện vi phạm tại thời điểm kiểm tra.",
        "Đã xử phạt {n} người không có lý do chính đáng ra đường theo Nghị định 117.",
        "Phường đã tăng cường tuần tra khu vực được phản ánh vào khung giờ {hour}.",
        "Tổ Covid cộng đồng đã giám sát chặt trường hợp F1 vi phạm cách ly.",
        "Đã chuyển công an xác minh thông tin sai sự thật trên mạng xã hội.",
    ),
    "co_so_cach_ly": (
        "Sở Y tế đã chỉ đạo khu cách ly bố trí lại phòng, tách F0 và F1.",
        "Ban quản lý khu cách ly đã sửa nhà vệ sinh và bổ sung nước uống.",
        "Đã cung cấp số điện thoại đường dây nóng của bệnh viện dã chiến cho người nhà.",
        "Khu cách ly đã cấp giấy hoàn thành cách ly và bố trí xe đưa về.",
        "Đã xác minh: không thu tiền ăn; đã nhắc nhở nhân viên liên quan.",
        "Bệnh nhân đã được chuyển lên tầng điều trị cao hơn theo chỉ định.",
        "Đã hướng dẫn gửi đồ tiếp tế tại cổng khu cách ly từ 8h đến 10h hằng ngày.",
        "Khu cách ly đã bổ sung mùng, quạt và thuốc hạ sốt.",
    ),
    "chinh_sach_ho_tro": (
        "Đã giải đáp theo Nghị quyết 68/NQ-CP và Quyết định 23/2021/QĐ-TTg: nộp hồ sơ tại UBND phường nơi tạm trú.",
        "Lao động tự do được hỗ trợ theo danh sách do tổ dân phố lập, phường xét duyệt.",
        "F0 điều trị được hỗ trợ tiền ăn 80.000 đồng/ngày; F1 cách ly tập trung cũng được hỗ trợ.",
        "Đã hướng dẫn hồ sơ hỗ trợ người lao động tạm hoãn hợp đồng qua doanh nghiệp.",
        "Người dân có thể nhận tiền mặt tại phường nếu không có tài khoản ngân hàng.",
        "Đã chuyển Phòng Lao động - Thương binh và Xã hội xem xét trường hợp không có tên.",
        "Trẻ em F0, F1 được hỗ trợ 1.000.000 đồng/trẻ, do trạm y tế lập danh sách.",
        "Đã giải thích: mỗi người chỉ nhận hỗ trợ một nơi, ưu tiên nơi đang sinh sống.",
        "Chi phí xét nghiệm, điều trị Covid-19 do ngân sách chi trả; hướng dẫn khiếu nại nếu bị thu.",
    ),
    "tiem_vac_xin": (
        "Đã hướng dẫn đăng ký tiêm qua tổ dân phố và ứng dụng Sổ sức khỏe điện tử.",
        "Khoảng cách mũi 2 AstraZeneca là 8-12 tuần; trạm y tế sẽ nhắn lịch.",
        "Đã chuyển trạm y tế {ward} bổ sung người dân vào danh sách tiêm đợt tới.",
        "Người có bệnh nền ổn định vẫn được tiêm, cần khám sàng lọc tại điểm tiêm.",
        "Đã hướng dẫn cập nhật mũi tiêm lên hệ thống qua cơ sở đã tiêm.",
        "Đội tiêm lưu động sẽ tiêm tại nhà cho người cao tuổi nằm liệt giường.",
        "Vắc xin Covid-19 tiêm miễn phí; tin nhắn mời tiêm dịch vụ là lừa đảo.",
        "Điểm tiêm hôm nay tiêm Vero Cell cho người từ 18 tuổi, mang CCCD.",
    ),
    "di_lai_giay_to": (
        "Đã hướng dẫn mẫu giấy đi đường mới, do cơ quan, doanh nghiệp cấp và phường xác nhận.",
        "Đã hướng dẫn đăng ký mã QR luồng xanh trên trang của Bộ Giao thông vận tải.",
        "Đi khám chữa bệnh, cấp cứu không cần giấy đi đường, mang theo giấy hẹn của bệnh viện.",
        "Đã chuyển Sở Giao thông vận tải phản ánh về chốt kiểm soát.",
        "Người từ tỉnh khác cần kết quả xét nghiệm âm tính trong 72 giờ.",
        "Đã hướng dẫn liên hệ UBND {ward} để được xác nhận về quê theo kế hoạch của tỉnh.",
        "Shipper được hoạt động từ 6h đến 18h và phải có giấy đi đường của doanh nghiệp.",
        "Công an {ward} sẽ hỗ trợ người dân có việc tang qua chốt.",
    ),
    "xet_nghiem": (
        "Đã chuyển CDC kiểm tra, kết quả đã gửi qua tin nhắn cho người dân.",
        "Tổ lấy mẫu lưu động sẽ đến {addr} trong ngày để lấy mẫu tại nhà.",
        "Xét nghiệm theo chỉ định của cơ quan y tế là miễn phí; đã xác minh trường hợp thu tiền.",
        "Đã hướng dẫn các điểm xét nghiệm PCR được cấp phép gần nhà và giá niêm yết.",
        "Kết quả test nhanh dương tính cần làm PCR khẳng định; đã hẹn lấy mẫu.",
        "Giấy xét nghiệm âm tính có giá trị 72 giờ để qua chốt.",
        "Trạm y tế đã bổ sung người dân vào đợt xét nghiệm tiếp theo.",
        "Đã hướng dẫn tự test nhanh: ngoáy mũi đủ sâu, đọc kết quả sau 15 phút.",
    ),
    "an_ninh_trat_tu": (
        "Công an {ward} đã có mặt, giải quyết vụ việc và đưa các bên về trụ sở.",
        "Đã hướng dẫn người dân trình báo tại công an phường kèm giấy tờ xe.",
        "Đã cảnh báo lừa đảo: cơ quan nhà nước không yêu cầu chuyển tiền qua điện thoại.",
        "Công an đã mời chủ nhà trọ làm việc, yêu cầu không đuổi người thuê trong giãn cách.",
        "Đã chuyển công an {ward} tăng cường tuần tra ban đêm.",
        "Người đi lạc đã được tìm thấy và đưa về gia đình.",
        "Đã tiếp nhận tin báo và chuyển phòng an ninh mạng xử lý trang giả mạo.",
        "Công an phường đã lập biên bản vụ việc bạo lực gia đình, hội phụ nữ theo dõi.",
    ),
    "thong_tin_chi_dao": (
        "Đã giải đáp theo văn bản mới nhất của UBND tỉnh về giãn cách theo Chỉ thị 16.",
        "Quán ăn chỉ được bán mang về qua shipper; không bán tại chỗ.",
        "Hạn chế ra đường sau 18h, trừ trường hợp cấp cứu và lực lượng làm nhiệm vụ.",
        "Chợ truyền thống tạm đóng; người dân mua qua đi chợ hộ hoặc siêu thị.",
        "Đã cung cấp thông tin phân vùng nguy cơ hiện tại của {ward}.",
        "Tin trên mạng là không chính thức; người dân theo dõi cổng thông tin của tỉnh.",
        "Cơ sở sản xuất hoạt động khi có phương án 3 tại chỗ được phê duyệt.",
        "Đám tang tổ chức không quá 10 người, thực hiện 5K.",
    ),
    "khac": (
        "Cảm ơn người dân, đã ghi nhận.",
        "Đã cung cấp số điện thoại của trạm y tế {ward}.",
        "Đã kết nối Mặt trận Tổ quốc để tiếp nhận ủng hộ.",
        "Đã chuyển điện lực khu vực xử lý sự cố.",
        "Đã hướng dẫn đăng ký tình nguyện viên qua Đoàn thanh niên phường.",
        "Đã chuyển công ty cấp thoát nước xử lý.",
        "Đã hướng dẫn thủ tục hộ tịch tại UBND phường, hẹn lịch làm việc.",
        "Cuộc gọi nhầm, đã kết thúc.",
    ),
}

RETURN_REASONS: tuple[str, ...] = (
    "Không thuộc địa bàn quản lý của đơn vị, đề nghị chuyển UBND phường nơi người dân cư trú.",
    "Nội dung thuộc thẩm quyền của ngành y tế, không phải của công an phường.",
    "Địa chỉ không rõ, không xác minh được; đề nghị tổng đài liên hệ lại người dân.",
    "Số điện thoại người phản ánh không liên lạc được sau 3 lần gọi.",
    "Vụ việc đã được đơn vị khác tiếp nhận và xử lý trước đó.",
    "Nội dung là hỏi đáp chính sách, tổng đài có thể trả lời trực tiếp.",
    "Thiếu thông tin về người cần hỗ trợ (họ tên, số người, địa chỉ cụ thể).",
)

REJECT_REASONS: tuple[str, ...] = (
    "Cuộc gọi quấy rối, nội dung không phù hợp.",
    "Tin nhắn quảng cáo, spam.",
    "Trùng với yêu cầu đã tiếp nhận trước đó.",
    "Nội dung không thuộc phạm vi của tổng đài 1022.",
    "Người gọi không cung cấp thông tin, gác máy.",
    "Thông tin giả, người dân xác nhận không có sự việc.",
)

# Chat greetings and location tails widen the variety of otherwise short questions.
GREETINGS: tuple[str, ...] = (
    "", "", "", "", "Chào tổng đài, ", "Dạ cho em hỏi, ", "Xin chào, ", "Cho tôi hỏi: ",
    "Tổng đài ơi, ", "Kính gửi tổng đài 1022, ", "Alo, ", "Nhờ tổng đài giúp: ",
)  # fmt: skip

LOCATION_TAILS: tuple[str, ...] = (
    " Nhà tôi ở {addr}, {ward}.",
    " Địa chỉ: {addr}, {ward}.",
    " (Tôi ở {ward})",
    " Người liên hệ: {contact}.",
    " Em ở {addr}.",
    " Khu vực {ward}.",
)
