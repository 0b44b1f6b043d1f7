"""Name material for the demo county: the town names are Hai'an's; everything else is made up."""

# (name, kind, code suffix of the 12-digit statistical code after 320685)
HAIAN_TOWNS = [
    ("海安街道", "subdistrict", "001000"),
    ("孙庄街道", "subdistrict", "002000"),
    ("城东镇", "town", "100000"),
    ("曲塘镇", "town", "101000"),
    ("李堡镇", "town", "102000"),
    ("角斜镇", "town", "103000"),
    ("大公镇", "town", "104000"),
    ("雅周镇", "town", "105000"),
    ("白甸镇", "town", "106000"),
    ("南莫镇", "town", "107000"),
    ("墩头镇", "town", "108000"),
    ("海安高新区", "zone", "400000"),
]
COUNTY_CODE = "320685"
COUNTY_NAME = "海安市"
# Near the real centre of Hai'an; the outline around it is invented.
CENTRE_LON, CENTRE_LAT = 120.46, 32.53

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_BOY = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建亮成博文轩然泽睿航晨豪铭"
GIVEN_GIRL = "芳娜敏静丽艳娟霞秀玲桂萍红英华慧莹雪琳晶欣怡婷佳妍悦萱涵琪颖诗梦雨馨然思可"
PLACE_CHARS = "东西南北新胜利丰和平安庄桥河湾港楼沙墩塘园林花光明红星永兴联合华富裕民乐强盛洋角堡甸周莫仁义礼忠孝福寿康宁丁刘许曹徐陆徐高"
ETHNICITIES = [("汉族", 0.985), ("回族", 0.005), ("满族", 0.003), ("苗族", 0.003), ("土家族", 0.002), ("壮族", 0.002)]
