"""Chinese personal and company names, drawn from frequency-weighted lists.

Surnames follow the national frequency ranking (a few compound surnames such as
欧阳 or 诸葛 appear rarely); about one given name in seven has one character.
Company names follow the usual pattern 行政区划 + 字号 + 行业 + 组织形式
(沈阳恒信科技有限公司).
"""

from __future__ import annotations

import itertools
import random

__all__ = ["company_name", "person_name"]

# Ranked roughly by frequency (north-east China leans towards 王/李/张/刘/于).
_SURNAMES = tuple(
    "王李张刘陈杨赵于孙黄周吴徐胡朱高林何郭马罗梁宋郑谢韩唐冯董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
    "顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文关佟宫隋鲍房庞曲栾"
)
# Weight of rank r is 1000 // (r + 4): a long tail, the top ten about a third.
_SURNAME_CUM = tuple(itertools.accumulate(1000 // (rank + 4) for rank in range(len(_SURNAMES))))
_COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "司徒", "尉迟")
_COMPOUND_SHARE = 0.006
_SINGLE_GIVEN_SHARE = 0.14

_MALE = tuple(
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林洋峰亮成东志国建博晨阳海振永岩松"
)
_FEMALE = tuple("芳娜敏静丽艳娟霞秀玲桂英燕萍红琳雪婷慧颖洁倩晶欣悦薇莉佳蕾璐丹楠月欢彤雯梅琴妍")
_NEUTRAL = tuple("文明华晓春海一子思雨嘉宇新立云天秋丹")

_TRADE = tuple(
    "恒信华远鑫源盛达瑞丰泰宏博创嘉德海川金鼎正通天祥安宇佳联兴汇中成隆辰新凯威星明锦诚卓腾宝振"
)
_INDUSTRIES = (
    "科技",
    "信息技术",
    "建设工程",
    "建筑工程",
    "商贸",
    "物业管理",
    "医疗器械",
    "环保科技",
    "电子",
    "软件",
    "印务",
    "办公设备",
    "餐饮管理",
    "保安服务",
    "工程咨询",
    "园林绿化",
    "机电设备",
    "文化传媒",
    "交通设施",
    "教育科技",
    "家具",
    "电力工程",
    "测绘",
    "人力资源",
)
_FORMS = ("有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司")


def person_name(rng: random.Random, gender: str) -> str:
    """A realistic full name for gender "M" or "F"."""
    if rng.random() < _COMPOUND_SHARE:
        surname = rng.choice(_COMPOUND)
    else:
        surname = rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]
    own = _MALE if gender == "M" else _FEMALE
    last = rng.choice(own)
    if rng.random() < _SINGLE_GIVEN_SHARE:
        return surname + last
    first = rng.choice(own + _NEUTRAL)
    while first == last:
        first = rng.choice(own + _NEUTRAL)
    return surname + first + last


def company_name(rng: random.Random, place: str) -> str:
    """A company name registered in `place` (a short place name such as 沈阳 or 辽宁)."""
    first = rng.choice(_TRADE)
    second = rng.choice(_TRADE)
    while second == first:
        second = rng.choice(_TRADE)
    return f"{place}{first}{second}{rng.choice(_INDUSTRIES)}{rng.choice(_FORMS)}"
