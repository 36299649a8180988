"""Liaoning's administrative divisions, their courts, and the government departments.

Region codes are the real 6-digit division codes (GB/T 2260): 210102 is
沈阳市和平区, whose basic court 沈阳市和平区人民法院 numbers its enforcement
cases (2024)辽0102执1234号. A few divisions of other provinces appear as birth
places in ID numbers only.

`DEPARTMENTS` lists the government departments at province, city and district
level. Departments with a `role` act as authorities: they decide administrative
penalties, list dishonest subjects, or (finance) debar procurement suppliers.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "CITIES",
    "DEPARTMENTS",
    "DISTRICTS",
    "GOLDEN_TOWNS",
    "ID_REGIONS",
    "PROVINCE",
    "PROVINCE_CODE",
    "STREETS",
    "City",
    "Department",
    "District",
    "home_district",
]

PROVINCE = "辽宁省"
PROVINCE_CODE = "210000"
PROVINCE_ABBR = "辽"


@dataclass(frozen=True)
class City:
    """A prefecture-level city: 4-digit code prefix, name and document abbreviation."""

    prefix: str
    name: str
    abbr: str

    @property
    def code(self) -> str:
        """The city's own 6-digit division code (2101 -> 210100)."""
        return self.prefix + "00"

    @property
    def short(self) -> str:
        """The name without 市, as in company names (沈阳)."""
        return self.name.removesuffix("市")


@dataclass(frozen=True)
class District:
    """A county-level division (区, 县 or 县级市) of a city."""

    code: str
    name: str
    city: City

    @property
    def area(self) -> str:
        """How department names start: 沈阳市和平区 for a 区, 新民市 or 康平县 otherwise."""
        return self.city.name + self.name if self.name.endswith("区") else self.name

    @property
    def abbr(self) -> str:
        """Document abbreviation: city abbreviation and the division's first character."""
        return self.city.abbr + self.name[0]

    @property
    def court(self) -> str:
        """The basic people's court of the division."""
        return f"{self.area}人民法院"

    @property
    def court_code(self) -> str:
        """The court's number in case codes: 辽0102."""
        return PROVINCE_ABBR + self.code[2:]


_CITY_TABLE = (
    (
        "2101",
        "沈阳市",
        "沈",
        "02和平区 03沈河区 04大东区 05皇姑区 06铁西区 11苏家屯区 12浑南区 13沈北新区"
        " 14于洪区 15辽中区 23康平县 24法库县 81新民市",
    ),
    (
        "2102",
        "大连市",
        "大",
        "02中山区 03西岗区 04沙河口区 11甘井子区 12旅顺口区 13金州区 14普兰店区"
        " 24长海县 81瓦房店市 83庄河市",
    ),
    (
        "2103",
        "鞍山市",
        "鞍",
        "02铁东区 03铁西区 04立山区 11千山区 21台安县 23岫岩满族自治县 81海城市",
    ),
    (
        "2104",
        "抚顺市",
        "抚",
        "02新抚区 03东洲区 04望花区 11顺城区 21抚顺县 22新宾满族自治县 23清原满族自治县",
    ),
    (
        "2105",
        "本溪市",
        "本",
        "02平山区 03溪湖区 04明山区 05南芬区 21本溪满族自治县 22桓仁满族自治县",
    ),
    ("2106", "丹东市", "丹", "02元宝区 03振兴区 04振安区 24宽甸满族自治县 81东港市 82凤城市"),
    ("2107", "锦州市", "锦", "02古塔区 03凌河区 11太和区 26黑山县 27义县 81凌海市 82北镇市"),
    ("2108", "营口市", "营", "02站前区 03西市区 04鲅鱼圈区 11老边区 81盖州市 82大石桥市"),
    (
        "2109",
        "阜新市",
        "阜",
        "02海州区 03新邱区 04太平区 05清河门区 11细河区 21阜新蒙古族自治县 22彰武县",
    ),
    (
        "2110",
        "辽阳市",
        "辽阳",
        "02白塔区 03文圣区 04宏伟区 05弓长岭区 11太子河区 21辽阳县 81灯塔市",
    ),
    ("2111", "盘锦市", "盘", "02双台子区 03兴隆台区 04大洼区 22盘山县"),
    ("2112", "铁岭市", "铁", "02银州区 04清河区 21铁岭县 23西丰县 24昌图县 81调兵山市 82开原市"),
    (
        "2113",
        "朝阳市",
        "朝",
        "02双塔区 03龙城区 21朝阳县 22建平县 24喀喇沁左翼蒙古族自治县 81北票市 82凌源市",
    ),
    ("2114", "葫芦岛市", "葫", "02连山区 03龙港区 04南票区 21绥中县 22建昌县 81兴城市"),
)


def _divisions() -> tuple[tuple[City, ...], tuple[District, ...]]:
    cities: list[City] = []
    districts: list[District] = []
    for prefix, name, abbr, table in _CITY_TABLE:
        city = City(prefix, name, abbr)
        cities.append(city)
        districts.extend(District(prefix + item[:2], item[2:], city) for item in table.split())
    return tuple(cities), tuple(districts)


CITIES, DISTRICTS = _divisions()
_BY_CODE = MappingProxyType({district.code: district for district in DISTRICTS})
_CAPITAL = _BY_CODE["210102"]


def home_district(region: str) -> District:
    """The division of a region code; 沈阳市和平区 for one outside Liaoning."""
    return _BY_CODE.get(region, _CAPITAL)


# Birth places outside Liaoning, as they appear in the first six digits of ID numbers.
_OTHER_BIRTH_REGIONS = (
    "110105",  # 北京市朝阳区
    "130102",  # 石家庄市长安区
    "130203",  # 唐山市路北区
    "150102",  # 呼和浩特市新城区
    "220102",  # 长春市南关区
    "230102",  # 哈尔滨市道里区
    "370202",  # 青岛市市南区
    "410105",  # 郑州市金水区
)
ID_REGIONS: tuple[str, ...] = tuple(d.code for d in DISTRICTS) + _OTHER_BIRTH_REGIONS


@dataclass(frozen=True)
class Department:
    """A kind of government department; names are formats over the area ({area})."""

    role: str
    province: str | None
    city: str | None
    district: str | None


# Authorities first, so that even a small set of units includes them.
DEPARTMENTS: tuple[Department, ...] = (
    Department("market", "{area}市场监督管理局", "{area}市场监督管理局", "{area}市场监督管理局"),
    Department(
        "development", "{area}发展和改革委员会", "{area}发展和改革委员会", "{area}发展和改革局"
    ),
    Department("finance", "{area}财政厅", "{area}财政局", "{area}财政局"),
    Department(
        "tax", "国家税务总局{area}税务局", "国家税务总局{area}税务局", "国家税务总局{area}税务局"
    ),
    Department("environment", "{area}生态环境厅", "{area}生态环境局", None),
    Department("safety", "{area}应急管理厅", "{area}应急管理局", "{area}应急管理局"),
    Department(
        "housing", "{area}住房和城乡建设厅", "{area}住房和城乡建设局", "{area}住房和城乡建设局"
    ),
    Department("transport", "{area}交通运输厅", "{area}交通运输局", "{area}交通运输局"),
    Department("", "{area}教育厅", "{area}教育局", "{area}教育局"),
    Department("", "{area}公安厅", "{area}公安局", None),
    Department("", "{area}民政厅", "{area}民政局", "{area}民政局"),
    Department("", "{area}司法厅", "{area}司法局", "{area}司法局"),
    Department(
        "", "{area}人力资源和社会保障厅", "{area}人力资源和社会保障局", "{area}人力资源和社会保障局"
    ),
    Department("", "{area}自然资源厅", "{area}自然资源局", None),
    Department("", "{area}水利厅", "{area}水务局", "{area}水利局"),
    Department("", "{area}农业农村厅", "{area}农业农村局", "{area}农业农村局"),
    Department("", "{area}商务厅", "{area}商务局", "{area}商务局"),
    Department(
        "", "{area}文化和旅游厅", "{area}文化旅游和广播电视局", "{area}文化旅游和广播电视局"
    ),
    Department("", "{area}卫生健康委员会", "{area}卫生健康委员会", "{area}卫生健康局"),
    Department("", "{area}退役军人事务厅", "{area}退役军人事务局", "{area}退役军人事务局"),
    Department("", "{area}审计厅", "{area}审计局", "{area}审计局"),
    Department("", "{area}统计局", "{area}统计局", "{area}统计局"),
    Department("", "{area}医疗保障局", "{area}医疗保障局", "{area}医疗保障局"),
    Department("", "{area}营商环境建设局", "{area}营商环境建设局", "{area}营商环境建设局"),
    Department("", "{area}科学技术厅", "{area}科学技术局", "{area}科学技术局"),
    Department("", "{area}工业和信息化厅", "{area}工业和信息化局", "{area}工业和信息化局"),
    Department("", "{area}国有资产监督管理委员会", "{area}国有资产监督管理委员会", None),
    Department("", "{area}体育局", "{area}体育局", None),
    Department("", "{area}机关事务管理局", "{area}机关事务管理局", None),
    Department("", "{area}信访局", "{area}信访局", "{area}信访局"),
    Department("", "{area}林业和草原局", "{area}林业和草原局", None),
    Department("", "{area}粮食和物资储备局", "{area}粮食和物资储备局", None),
    Department("", "{area}人民防空办公室", "{area}人民防空办公室", None),
    Department("", "{area}药品监督管理局", None, None),
    Department("", None, "{area}城市管理行政执法局", "{area}城市管理局"),
)

# Sub-district offices, used once the departments are exhausted.
STREETS = (
    "新华",
    "太原",
    "南湖",
    "北市",
    "长白",
    "浑河",
    "五里河",
    "泉园",
    "黎明",
    "万泉",
    "滨河",
    "光明",
    "胜利",
    "青年",
    "中华",
    "文化",
    "兴华",
    "昆山",
    "岐山",
    "华山",
    "沈州",
    "北站",
    "大南",
    "小北",
    "二台子",
    "八家子",
    "新城",
    "塔湾",
    "翠湖",
    "东湖",
)

# Towns whose governments stand in for the planted (golden) units: no generated
# unit is a town government, so their names never clash with a generated one.
GOLDEN_TOWNS: tuple[tuple[str, str], ...] = (
    ("210123", "郝官屯镇"),
    ("210123", "方家屯镇"),
    ("210123", "东关镇"),
    ("210124", "大孤家子镇"),
    ("210124", "三面船镇"),
    ("210124", "秀水河子镇"),
    ("210124", "叶茂台镇"),
    ("210181", "大民屯镇"),
    ("210181", "兴隆镇"),
    ("210181", "梁山镇"),
    ("210321", "桓洞镇"),
    ("210321", "新开河镇"),
    ("210323", "雅河乡"),
    ("210323", "哈达碑镇"),
    ("210421", "救兵镇"),
    ("210422", "永陵镇"),
    ("210422", "旺清门镇"),
    ("210423", "南口前镇"),
    ("210423", "湾甸子镇"),
    ("210726", "八道壕镇"),
    ("210726", "芳山镇"),
    ("210727", "七里河镇"),
    ("210727", "大榆树堡镇"),
    ("211224", "老城镇"),
    ("211224", "亮中桥镇"),
    ("211223", "平岗镇"),
    ("211322", "深井镇"),
    ("211322", "朱碌科镇"),
    ("211421", "前所镇"),
    ("211421", "万家镇"),
)
