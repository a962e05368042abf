"""The synthetic CMDS 2014 written in the real release's layout (generator.layout: release).

The same respondents as the generator's own layout (cmds2014_layout.py), recorded as the
public cleaning code for CMDS 2013/2014 shows the real individual file:

* short mnemonic names with a roster suffix, the respondent in slot 1 (`gender_1`, `birt_y_1`
  and `birt_m_1`: birth year and month, no age; `nation_1` with the 56 nationalities, `edu_stat_1`
  with 7 levels, `acc_nat_1`, `marriage_1`, `flo_rage_1`, `flo_reas_1`, `floyear_1`/`flomon_1`);
  household members in slots `_1` .. `_10` (household size is the count of filled slots);
* geography as text: the province and `city_name` in Chinese, and the sample-point code
  `inte_code`, whose first four characters are the city code (province code, city number);
* insurance as one item per programme coded by place of enrolment (1 here, 2 hukou place,
  3 elsewhere, 4 not enrolled, 5 don't know), "other insurance" split over two programmes;
* a skip pattern: the outpatient-visit item is asked only of those ill or unwell in the last
  two weeks (system-missing for everyone else, who did not visit); hospitalisation items are
  -1 "not applicable" for those not hospitalised;
* the reimbursement item as one ticked (1) / not ticked (2) item per option, with a tenth
  option "no reimbursement" (ticked instead of "else" by those who ticked nothing else);
* Chinese value labels and special codes -1, -2 and 98 declared as user-missing.

data/codebooks/cmds2014_release.yaml reads it into exactly the canonical variables the studies
use from the default layout (tests/test_release_layout.py), through the codebook language only.
Each choice that keeps it so is noted where it is made: a birth month drawn with the birth year
that keeps the age in completed years; city codes that sort as the default city numbers; the
"unwell" answer given to every visitor who was not ill.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import cmds2014_layout as default

FILE_LABEL = "Synthetic CMDS 2014, release layout (generated; not the real survey)"
ROSTER = 10
NOT_APPLICABLE, DONT_KNOW, NOT_KNOWN = -1, -2, 98
INTERVIEW_YEAR, INTERVIEW_MONTH = 2014, 5

# Provincial units in the order of their codes (GB/T 2260), which the default layout numbers 1..32.
PROVINCES = [
    (11, "北京"), (12, "天津"), (13, "河北"), (14, "山西"), (15, "内蒙古"), (21, "辽宁"), (22, "吉林"),
    (23, "黑龙江"), (31, "上海"), (32, "江苏"), (33, "浙江"), (34, "安徽"), (35, "福建"), (36, "江西"),
    (37, "山东"), (41, "河南"), (42, "湖北"), (43, "湖南"), (44, "广东"), (45, "广西"), (46, "海南"),
    (50, "重庆"), (51, "四川"), (52, "贵州"), (53, "云南"), (54, "西藏"), (61, "陕西"), (62, "甘肃"),
    (63, "青海"), (64, "宁夏"), (65, "新疆"), (66, "新疆生产建设兵团"),
]  # fmt: skip
# The 56 nationalities in the order of their codes (GB/T 3304), and 57 "other".
NATIONALITIES = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 哈尼族 哈萨克族 "
    "傣族 黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 "
    "羌族 布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 "
    "德昂族 保安族 裕固族 京族 塔塔尔族 独龙族 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族 其他"
).split()
# The default layout's ethnicity codes (Han, Zhuang, Hui, Manchu, Uyghur, Miao) -> nationality codes;
# its "other ethnic minority" is drawn among the remaining nationalities.
ETHNICITY = {1: 1, 2: 8, 3: 3, 4: 11, 5: 5, 6: 6}
OTHER_NATIONALITIES = [k for k in range(2, len(NATIONALITIES) + 1) if k not in ETHNICITY.values()]
# Education: the default's 8 levels -> the 2014 release's 7 (senior high and technical secondary share one).
EDUCATION = {1: 1, 2: 2, 3: 3, 4: 4, 5: 4, 6: 5, 7: 6, 8: 7}
REASONS = {2: 3, 3: 4, 4: 5, 5: 7}  # family, marriage, housing, study; work splits 1/2, other 6/8/9/10
PLACES = {1: "本地", 2: "户籍地", 3: "其他地方", 4: "没有参加", 5: "不清楚"}
PROGRAMMES = {"ncms": "新型农村合作医疗", "urbmi": "城镇居民医疗保险", "uebmi": "城镇职工医疗保险"}
OTHER_PROGRAMMES = {"gov": "公费医疗", "comm": "商业医疗保险"}
REIMBURSEMENT_SOURCES = {
    1: "新农合补助",
    2: "城镇职工医保补助",
    3: "工作单位",
    4: "新农合办公室",
    5: "当地卫生院",
    6: "商业保险",
    7: "计划生育手术补助",
    8: "计划生育手术",
    9: "其他",
    10: "没有报销",
}
TICKED = {1: "是", 2: "否", NOT_APPLICABLE: "不适用"}
YES_NO = {1: "是", 2: "否"}
SPECIAL = {NOT_APPLICABLE: "不适用", NOT_KNOWN: "不清楚"}
AMOUNT_SPECIAL = {NOT_APPLICABLE: "不适用", DONT_KNOW: "不清楚"}

VARIABLES: dict[str, tuple[str, dict | None, dict]] = {
    "ID": ("问卷编号", None, {}),
    "prov": ("现居住地省份", None, {}),
    "city_name": ("现居住地城市", None, {}),
    "inte_code": ("样本点编码", None, {}),
    "comm_type": ("社区类型", {1: "居委会", 2: "村委会"}, {}),
    "weight": ("抽样权数", None, {}),
    **{f"gender_{k}": (f"家庭成员{k}：性别", {1: "男", 2: "女"}, {}) for k in range(1, ROSTER + 1)},
    **{f"birt_y_{k}": (f"家庭成员{k}：出生年", None, {}) for k in range(1, ROSTER + 1)},
    "birt_m_1": ("被访者：出生月", None, {}),
    "nation_1": ("被访者：民族", dict(enumerate(NATIONALITIES, start=1)), {}),
    "edu_stat_1": (
        "被访者：受教育程度",
        {1: "未上过学", 2: "小学", 3: "初中", 4: "高中/中专", 5: "大学专科", 6: "大学本科", 7: "研究生"},
        {},
    ),
    "acc_nat_1": ("被访者：户口性质", {1: "农业", 2: "非农业", 3: "居民"}, {}),
    "acc_prov_1": ("被访者：户籍地省份", None, {}),
    "marriage_1": ("被访者：婚姻状况", {1: "未婚", 2: "初婚", 3: "再婚", 4: "离婚", 5: "丧偶", 6: "同居"}, {}),
    "work_1": ("五一节前一周是否做过一小时以上有收入的工作", YES_NO, {}),
    "famincom_m": ("家庭在本地每月总收入（元）", None, AMOUNT_SPECIAL),
    "flo_rage_1": ("被访者：流动范围", {1: "跨省", 2: "省内跨市", 3: "市内跨县"}, {}),
    "flo_reas_1": (
        "被访者：流动原因",
        {
            1: "务工",
            2: "经商",
            3: "家属随迁",
            4: "婚姻嫁娶",
            5: "拆迁搬家",
            6: "投亲靠友",
            7: "学习培训",
            8: "参军",
            9: "出生",
            10: "其他",
        },
        {},
    ),
    "floyear_1": ("被访者：本次流动年份", None, {}),
    "flomon_1": ("被访者：本次流动月份", None, {}),
    "stay_inten": ("是否打算在本地长期居住", {1: "打算", 2: "不打算", 3: "没想好"}, {}),
    **{f"ins_{k}": (f"参加{v}的地点", PLACES, {}) for k, v in {**PROGRAMMES, **OTHER_PROGRAMMES}.items()},
    "sick_2w": ("最近两周是否患病（负伤）或身体不适", {1: "患病或负伤", 2: "身体不适但未患病", 3: "没有"}, {}),
    "visit_2w": ("最近两周是否去医疗机构看过门诊", YES_NO, {}),
    "inhosp_1y": ("最近一年是否住过院", YES_NO, {}),
    "hosp_reas": ("最近一次住院的原因", {1: "疾病", 2: "损伤中毒", 3: "分娩", 4: "其他"}, SPECIAL),
    "hosp_place": ("最近一次住院的地点", {1: "本地", 2: "户籍地", 3: "其他地方"}, SPECIAL),
    "hosp_inst": (
        "最近一次住院的医疗机构",
        {1: "基层医疗机构", 2: "二级医院", 3: "三级医院", 4: "民营医院", 5: "其他"},
        SPECIAL,
    ),
    "hosp_cost": ("最近一次住院的总费用（元）", None, AMOUNT_SPECIAL),
    **{f"reimb_{k}": (f"住院费用报销来源：{v}", TICKED, {}) for k, v in REIMBURSEMENT_SOURCES.items()},
    "reimb_amt": ("社会医疗保险报销金额（元）", None, AMOUNT_SPECIAL),
    "noreimb_reas": (
        "没有报销的主要原因",
        {1: "需要或打算回户籍地报销", 2: "不知道报销流程", 3: "不属于政策范围", 4: "其他"},
        SPECIAL,
    ),
}
TEXT = ("prov", "city_name", "inte_code")


def value_labels() -> dict:
    return {name: {**(codes or {}), **special} for name, (_, codes, special) in VARIABLES.items() if codes or special}


def user_missing() -> dict:
    """Special codes declared to SPSS as user-missing (-1 in the multiple-response items too)."""
    out = {name: sorted(special) for name, (_, _, special) in VARIABLES.items() if special}
    out.update({f"reimb_{k}": [NOT_APPLICABLE] for k in REIMBURSEMENT_SOURCES})
    return out


def variable_labels() -> dict:
    return {name: label for name, (label, _, _) in VARIABLES.items()}


def convert(raw: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The default layout's respondents (raw codes) in the release's layout."""
    rng = np.random.default_rng([seed, 15])
    n = len(raw)
    col = {c: raw[c].to_numpy() for c in raw.columns}
    out: dict[str, np.ndarray] = {"ID": col["id"]}
    province = col["prov"].astype(int) - 1
    codes = np.array([code for code, _ in PROVINCES])
    names = np.array([name for _, name in PROVINCES], dtype=object)
    out["prov"] = names[province]
    # City codes: province code and the city's number within its province; the default numbers
    # cities province by province, so the codes sort as the city numbers (and so do the clusters).
    city = col["city"].astype(int)
    cities = pd.DataFrame({"city": city, "province": province}).drop_duplicates("city").sort_values("city")
    cities["k"] = cities.groupby("province").cumcount() + 1
    number = dict(zip(cities["city"], cities["k"]))
    k = np.array([number[c] for c in city])
    city_code = np.char.add(np.char.zfill(codes[province].astype(str), 2), np.char.zfill(k.astype(str), 2))
    out["city_name"] = np.array([f"{p}第{j}市" for p, j in zip(names[province], k)], dtype=object)
    psu = col["psu"].astype(int)
    first_psu = pd.Series(psu).groupby(city).transform("min").to_numpy()
    point = np.char.zfill((psu - first_psu + 1).astype(str), 3)
    out["inte_code"] = np.char.add(city_code, point).astype(object)
    out["comm_type"] = col["q105"]
    out["weight"] = col["wt"]
    _roster(out, col, rng, n)
    out["nation_1"] = np.where(
        col["q101d"] == 7, rng.choice(OTHER_NATIONALITIES, n), pd.Series(col["q101d"]).map(ETHNICITY).to_numpy()
    ).astype(float)
    out["edu_stat_1"] = pd.Series(col["q101e"]).map(EDUCATION).to_numpy(float)
    out["acc_nat_1"] = col["q101f"]
    out["acc_prov_1"] = codes[col["q101h"].astype(int) - 1].astype(float)
    out["marriage_1"] = col["q101g"]
    out["work_1"] = col["q102"]
    out["famincom_m"] = _amount(col["q103"])
    out["flo_rage_1"] = col["q106"]
    reason = pd.Series(col["q107"]).map(REASONS).to_numpy(float)
    reason = np.where(col["q107"] == 1, rng.choice([1, 2], n, p=[0.8, 0.2]), reason)
    out["flo_reas_1"] = np.where(col["q107"] == 6, rng.choice([6, 8, 9, 10], n, p=[0.6, 0.1, 0.1, 0.2]), reason)
    out["floyear_1"], out["flomon_1"] = col["q108y"], col["q108m"]
    out["stay_inten"] = col["q109"]
    for item in PROGRAMMES:
        out[f"ins_{item}"] = _enrolment(col[f"q201_{item}"], col[f"q202_{item}"])
    _other_insurance(out, col, rng, n)
    _health(out, col, rng, n)
    out["inhosp_1y"] = col["q303"]
    for item, source in (("hosp_reas", "q304"), ("hosp_place", "q305"), ("hosp_inst", "q306")):
        out[item] = _coded(col[source])
    out["hosp_cost"] = _amount(col["q307"])
    _reimbursement(out, col)
    out["reimb_amt"] = _amount(col["q309"])
    out["noreimb_reas"] = _coded(col["q310"])
    frame = pd.DataFrame(out)
    return frame[list(VARIABLES)]


def _roster(out: dict, col: dict, rng, n: int) -> None:
    """Slot 1 is the respondent; slots 2 .. household size hold the other members; the rest are empty.

    The birth month is drawn, and the birth year chosen with it so that the age in completed years
    at the interview (May 2014) is the default layout's age (2014 minus its birth year)."""
    month = rng.integers(1, 13, n)
    year = col["q101c"] - (month > INTERVIEW_MONTH)
    size = col["q104"].astype(int)
    out["gender_1"], out["birt_y_1"] = col["q101b"], year.astype(float)
    for k in range(2, ROSTER + 1):
        member = size >= k
        gender = rng.integers(1, 3, n).astype(float)
        born = year + rng.integers(-30, 31, n)
        out[f"gender_{k}"] = np.where(member, gender, np.nan)
        out[f"birt_y_{k}"] = np.where(member, np.minimum(born, INTERVIEW_YEAR), np.nan).astype(float)
    out["birt_m_1"] = month.astype(float)


def _amount(values: np.ndarray) -> np.ndarray:
    special = {default.AMOUNT_DONT_KNOW: DONT_KNOW, default.AMOUNT_NOT_APPLICABLE: NOT_APPLICABLE}
    return pd.Series(values).replace(special).to_numpy(float)


def _coded(values: np.ndarray) -> np.ndarray:
    return (
        pd.Series(values)
        .replace({default.DONT_KNOW: NOT_KNOWN, default.NOT_APPLICABLE: NOT_APPLICABLE})
        .to_numpy(float)
    )


def _enrolment(held: np.ndarray, place: np.ndarray) -> np.ndarray:
    """Held with a place 1-3 -> the place; held, place unknown -> 5; not held -> 4."""
    return np.where(held == 1, np.where(np.isin(place, (1, 2, 3)), place, 5), 4).astype(float)


def _other_insurance(out: dict, col: dict, rng, n: int) -> None:
    """The default's 'other insurance' as government insurance and/or commercial insurance: the first
    of them a respondent holds carries the default's place of enrolment."""
    held = col["q201_other"] == 1
    which = rng.choice(3, n, p=[0.6, 0.3, 0.1])  # government only, commercial only, both
    place = col["q202_other"]
    second_place = rng.choice([1, 2, 3], n, p=[0.5, 0.4, 0.1])
    gov = held & (which != 1)
    comm = held & (which != 0)
    out["ins_gov"] = _enrolment(gov.astype(int), place)
    out["ins_comm"] = _enrolment(comm.astype(int), np.where(gov, second_place, place))


def _health(out: dict, col: dict, rng, n: int) -> None:
    """Ill or injured (1), unwell without an illness (2), neither (3); the visit item is asked of the
    first two only. Every visitor who was not ill answered 'unwell', so that no visit is lost to the
    skip; some who were unwell did not visit."""
    ill, visited = col["q301"] == 1, col["q302"] == 1
    unwell = ~ill & (visited | (rng.random(n) < 0.15))
    out["sick_2w"] = np.select([ill, unwell], [1, 2], 3).astype(float)
    out["visit_2w"] = np.where(ill | unwell, col["q302"], np.nan)


def _reimbursement(out: dict, col: dict) -> None:
    """Options 1-9 as ticked in the default layout (1 ticked, 2 not); option 10, "no reimbursement",
    is ticked instead of "else" by those who ticked "else" alone; -1 for those not hospitalised."""
    ticks = np.column_stack([col[f"q308_{k}"] for k in range(1, 10)])
    asked = ticks[:, 0] != default.NOT_APPLICABLE
    else_alone = asked & (ticks[:, 8] == 1) & ((ticks[:, :8] == 1).sum(axis=1) == 0)
    for k in range(1, 10):
        ticked = ticks[:, k - 1] == 1
        if k == 9:
            ticked &= ~else_alone
        out[f"reimb_{k}"] = np.where(asked, np.where(ticked, 1, 2), NOT_APPLICABLE).astype(float)
    out["reimb_10"] = np.where(asked, np.where(else_alone, 1, 2), NOT_APPLICABLE).astype(float)
