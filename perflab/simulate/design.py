"""The shape of the simulated evaluation: planted effect sizes, sessions, group sizes, the units and their claims.

Numbers are score points on the 0–100 scale unless said otherwise; every one is
an assumption chosen so that the demo data look like Beijing's 2016 evaluation.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------
# planted effect sizes (score points on the 0-100 scale)
# ---------------------------------------------------------------------------

QUALITY_MEAN = 82.0  # mean true quality
UNIT_SD = 5.0  # sd of a unit's general level
INDICATOR_SD = 3.0  # sd of a unit's indicator-specific deviation
RATER_UNIT_SD = 2.0  # one rater's impression of one unit, shared over indicators
NOISE_SD = 3.5  # per rating (with RATER_UNIT_SD: about 4 in all)
SEVERITY_SD = 1.5  # ordinary raters' severity
N_LENIENT, LENIENT = 6, 7.0  # points a lenient rater adds to every score (severity -7)
N_SEVERE, SEVERE = 6, -7.0  # points a severe rater adds to every score (severity +7)
EXTREME_SD = 0.75  # spread of the lenient / severe raters' severities around -+7
N_HALO, HALO_JITTER_SD = 6, 0.5
N_CENTRAL, CENTRAL_TARGET, CENTRAL_SHRINK = 5, 80.0, 0.3
N_FAVOUR, FAVOUR, FAVOUR_SD = 8, 14.0, 1.0  # large enough to be found rater by rater (noise about 2.7 points)
N_BLOC, BLOC_SD = 8, 5.0
DRIFT_SESSION = 2  # the evening session
DRIFT_START, DRIFT_END = -3.0, -7.0  # linear in presentation order: mean -5, about 5 standard errors of a session mean
GRASSROOTS_COEF = 0.8  # grassroots term = coef * (satisfaction - mean satisfaction of the unit's kind)
N_FALSE_CLAIMS = 6

DISTRICT_SATISFACTION = 79.73  # source
DEPARTMENT_SATISFACTION = 93.9  # source
BELOW_AVERAGE = ("Fengtai", "Haidian", "Chaoyang", "Shijingshan", "Tongzhou", "Changping", "Dongcheng")  # source

SESSIONS = {
    1: "2017-02-10 afternoon",
    2: "2017-02-10 evening",
    3: "2017-02-11 morning",
}

GROUP_SIZES = {
    "city_leaders": 12,
    "state_council": 6,
    "unit_heads": 30,
    "supervisors": 8,
    "npc_deputies": 20,
    "cppcc_members": 20,
    "experts": 10,
    "media": 8,
    "grassroots": 106,
}
OTHER_GROUP_SIZE = 10  # a group of the scheme not listed above
N_HEADS_DISTRICT = 10  # unit heads leading a district (the other heads lead departments)
N_DEPT_BY_SESSION = {1: 12, 2: 20, 3: 11}  # districts: half in session 1, half in session 3
SESSION_DRAWS = 500  # random allocations to sessions tried; the best balanced in true quality is kept

# ---------------------------------------------------------------------------
# the units
# ---------------------------------------------------------------------------

DISTRICTS = (  # id, zone, name_zh, English stem
    ("D01", "core", "东城区", "Dongcheng"),
    ("D02", "core", "西城区", "Xicheng"),
    ("D03", "extension", "朝阳区", "Chaoyang"),
    ("D04", "extension", "海淀区", "Haidian"),
    ("D05", "extension", "丰台区", "Fengtai"),
    ("D06", "extension", "石景山区", "Shijingshan"),
    ("D07", "new_development", "房山区", "Fangshan"),
    ("D08", "new_development", "通州区", "Tongzhou"),
    ("D09", "new_development", "顺义区", "Shunyi"),
    ("D10", "new_development", "昌平区", "Changping"),
    ("D11", "new_development", "大兴区", "Daxing"),
    ("D12", "ecological", "门头沟区", "Mentougou"),
    ("D13", "ecological", "怀柔区", "Huairou"),
    ("D14", "ecological", "平谷区", "Pinggu"),
    ("D15", "ecological", "密云区", "Miyun"),
    ("D16", "ecological", "延庆区", "Yanqing"),
)

# zone, name_zh, name_en, presented (False: dispatched agency, centrally
# affiliated or department-managed body that submitted a written report only)
DEPARTMENTS = (
    ("economy", "市发展改革委", "Beijing Municipal Commission of Development and Reform", True),
    ("economy", "市经济信息化委", "Beijing Municipal Commission of Economy and Information Technology", True),
    ("economy", "市科委", "Beijing Municipal Science and Technology Commission", True),
    ("economy", "市商务委", "Beijing Municipal Commission of Commerce", True),
    ("economy", "市财政局", "Beijing Municipal Finance Bureau", True),
    ("economy", "市金融局", "Beijing Municipal Bureau of Financial Work", True),
    ("economy", "市旅游委", "Beijing Municipal Commission of Tourism Development", True),
    ("economy", "市国资委", "State-owned Assets Supervision and Administration Commission of Beijing", True),
    ("economy", "市统计局", "Beijing Municipal Bureau of Statistics", True),
    ("economy", "市农委", "Beijing Municipal Commission of Rural Affairs", True),
    ("economy", "市地税局", "Beijing Local Taxation Bureau", True),
    ("economy", "中关村管委会", "Zhongguancun Science Park Administrative Committee", False),
    (
        "economy",
        "北京经济技术开发区管委会",
        "Beijing Economic-Technological Development Area Administrative Committee",
        False,
    ),
    ("economy", "北京市国家税务局", "Beijing Municipal Office of the State Administration of Taxation", False),
    ("economy", "市知识产权局", "Beijing Intellectual Property Office", False),
    ("urban", "市规划国土委", "Beijing Municipal Commission of Urban Planning, Land and Resources Management", True),
    ("urban", "市住房城乡建设委", "Beijing Municipal Commission of Housing and Urban-Rural Development", True),
    ("urban", "市城市管理委", "Beijing Municipal Commission of City Management", True),
    ("urban", "市交通委", "Beijing Municipal Commission of Transport", True),
    ("urban", "市环保局", "Beijing Municipal Environmental Protection Bureau", True),
    ("urban", "市水务局", "Beijing Water Authority", True),
    ("urban", "市园林绿化局", "Beijing Municipal Bureau of Landscape and Forestry", True),
    ("urban", "市重大项目办", "Beijing Major Projects Construction Office", True),
    ("urban", "市城管执法局", "Beijing Municipal Administration of Urban Management Law Enforcement", False),
    ("urban", "市公园管理中心", "Beijing Municipal Administration Center of Parks", False),
    ("urban", "市路政局", "Beijing Municipal Road Administration Bureau", False),
    ("urban", "市运输管理局", "Beijing Municipal Transport Management Bureau", False),
    ("urban", "北京市气象局", "Beijing Meteorological Service", False),
    ("social", "市教委", "Beijing Municipal Commission of Education", True),
    ("social", "市人力社保局", "Beijing Municipal Human Resources and Social Security Bureau", True),
    ("social", "市民政局", "Beijing Municipal Civil Affairs Bureau", True),
    ("social", "市卫生计生委", "Beijing Municipal Commission of Health and Family Planning", True),
    ("social", "市文化局", "Beijing Municipal Bureau of Culture", True),
    ("social", "市新闻出版广电局", "Beijing Municipal Bureau of Press, Publication, Radio, Film and Television", True),
    ("social", "市文物局", "Beijing Municipal Administration of Cultural Heritage", True),
    ("social", "市体育局", "Beijing Municipal Bureau of Sports", True),
    ("social", "市民族宗教委", "Beijing Municipal Commission of Ethnic and Religious Affairs", True),
    ("social", "市侨办", "Beijing Overseas Chinese Affairs Office", True),
    ("social", "市医院管理局", "Beijing Municipal Administration of Hospitals", False),
    ("social", "北京住房公积金管理中心", "Beijing Housing Provident Fund Management Center", False),
    ("security", "市公安局", "Beijing Municipal Public Security Bureau", True),
    ("security", "市司法局", "Beijing Municipal Bureau of Justice", True),
    ("security", "市安全监管局", "Beijing Municipal Administration of Work Safety", True),
    ("security", "市工商局", "Beijing Administration for Industry and Commerce", True),
    ("security", "市质监局", "Beijing Municipal Bureau of Quality and Technical Supervision", True),
    ("security", "市食品药品监管局", "Beijing Municipal Food and Drug Administration", True),
    ("security", "市民防局", "Beijing Civil Defense Bureau", True),
    ("security", "市监狱管理局", "Beijing Municipal Prison Administration", False),
    ("security", "市戒毒管理局", "Beijing Municipal Drug Rehabilitation Administration", False),
    ("security", "北京出入境检验检疫局", "Beijing Entry-Exit Inspection and Quarantine Bureau", False),
    ("governance", "市政府办公厅", "General Office of the Beijing Municipal Government", True),
    ("governance", "市审计局", "Beijing Municipal Audit Bureau", True),
    ("governance", "市政府法制办", "Legislative Affairs Office of the Beijing Municipal Government", True),
    ("governance", "市监察局", "Beijing Municipal Bureau of Supervision", True),
    ("governance", "市政府外办", "Foreign Affairs Office of the Beijing Municipal Government", True),
    ("governance", "市信访办", "Beijing Municipal Bureau of Letters and Calls", True),
    ("governance", "市机关事务管理局", "Beijing Municipal Government Offices Administration", True),
    ("governance", "市政务服务中心", "Beijing Municipal Administrative Service Center", False),
    ("governance", "市档案局", "Beijing Municipal Archives Bureau", False),
    ("governance", "市地方志办", "Beijing Local Chronicles Office", False),
)

# zone effects on true quality, by indicator id (indicators not listed: 0)
ZONE_EFFECTS = {
    "core": {"main_indicators": 3.0, "service": 1.0},
    "extension": {"main_indicators": 1.5, "innovation": 2.5},
    "new_development": {"main_indicators": 1.0, "key_tasks": 2.0},
    "ecological": {"main_indicators": -4.0, "service": 3.0, "clean_admin": 1.0},
    "economy": {"main_indicators": 2.0},
    "urban": {"key_tasks": 2.0},
    "social": {"service": 2.0},
    "security": {"law_based_admin": 2.0},
    "governance": {"clean_admin": 1.5},
}

# ---------------------------------------------------------------------------
# verification claims: template, low, high (scaled by the zone), decimals
# ---------------------------------------------------------------------------

FIRMS_CLAIM = "关停污染企业 {}家"  # filled with the reported history value of polluting_firms_closed
DISTRICT_CLAIMS = (
    ("拆除违法建设 {}万平方米", 20, 120, 1),
    ("新建污水处理厂 {}座", 1, 4, 0),
    ("新增造林绿化 {}亩", 2000, 20000, 0),
    ("治理黑臭水体 {}条", 1, 8, 0),
    ("改造老旧小区 {}个", 5, 40, 0),
    ("疏解提升市场 {}个", 3, 30, 0),
    ("整治开墙打洞 {}处", 100, 1500, 0),
    ("完成煤改清洁能源 {}户", 2000, 30000, 0),
)
DISTRICT_SCALE = {"core": 0.5, "extension": 1.0, "new_development": 1.4, "ecological": 0.8}
DEPARTMENT_CLAIMS = {
    "economy": (
        ("新增科技型企业 {}家", 200, 2000, 0),
        ("压减行政审批事项 {}项", 10, 120, 0),
        ("新增网上办理事项 {}项", 20, 200, 0),
    ),
    "urban": (
        ("新建公共停车位 {}个", 1000, 20000, 0),
        ("新建改造城市道路 {}公里", 5, 60, 1),
        ("新增城市绿地 {}公顷", 50, 800, 0),
        ("新建污水处理设施 {}座", 2, 20, 0),
    ),
    "social": (
        ("新增养老床位 {}张", 500, 8000, 0),
        ("新建幼儿园 {}所", 5, 60, 0),
        ("新增就业岗位 {}万个", 5, 45, 1),
    ),
    "security": (
        ("检查食品生产经营单位 {}家", 5000, 60000, 0),
        ("排查整治安全隐患 {}处", 1000, 30000, 0),
        ("查处违法案件 {}起", 200, 5000, 0),
    ),
    "governance": (
        ("办结群众来信来访 {}件", 2000, 40000, 0),
        ("完成审计项目 {}个", 50, 600, 0),
        ("新增政务服务事项网上办理 {}项", 20, 300, 0),
    ),
}
N_DISTRICT_CLAIMS = 3  # per district and year, besides the polluting-firms claim
N_DEPARTMENT_CHECKED = 25  # departments checked per year (1 or 2 claims each)
