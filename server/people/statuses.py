"""The campaign's code lists for people, with their Chinese labels (campaign.md).

Codes are stable English words (they travel to tablets and reports); labels are what people
read. Pure: no database, no Flask.
"""

GENDERS = {"M": "男", "F": "女"}

# A child's enrollment status. The first group counts as enrolled (入学), the second is
# legitimately not enrolled (excluded from the denominator, each needs evidence), the third is
# out of school, and not_school_age sits outside the campaign's counts altogether.
ENROLLED = {
    "enrolled_unconfirmed": "在读（待核实）",
    "enrolled": "在读",
    "home_teaching": "送教上门",
}
LEGITIMATELY_NOT_ENROLLED = {
    "sick_deferral": "因病缓学/休学",
    "moved_out": "异地就读",
    "abroad": "出国",
    "deceased": "死亡",
}
OUT_OF_SCHOOL = {
    "suspected_out_of_school": "疑似未入学/辍学",
    "never_enrolled": "未入学",
    "dropped_out": "辍学",
}
# Register states that are neither attending nor a verdict yet: a suspension (休学) without a
# hospital certificate, and a transfer out whose receiving school has not confirmed.
UNRESOLVED = {
    "suspended": "休学（待核实）",
    "transferred_out": "转出（待核实）",
}
OTHER = {"not_school_age": "非适龄"}

ENROLLMENT_STATUSES = {**ENROLLED, **LEGITIMATELY_NOT_ENROLLED, **OUT_OF_SCHOOL, **UNRESOLVED, **OTHER}

DROPOUT_REASONS = {
    "weary_of_study": "厌学",
    "poverty": "家庭经济困难",
    "working": "外出务工",
    "health_disability": "身体原因/残疾",
    "family_crisis": "家庭变故",
    "early_marriage": "早婚",
    "other": "其他",
}

# 五种弱势家庭
VULNERABLE_FAMILY_TYPES = {
    "single_parent": "单亲",
    "poor": "贫困（建档立卡）",
    "parent_disabled": "家长残疾",
    "parents_away": "家长外出务工",
    "raised_by_relatives": "由父母单方或亲属抚养",
}

DISABILITY_TYPES = {
    "visual": "视力残疾",
    "hearing": "听力残疾",
    "speech": "言语残疾",
    "physical": "肢体残疾",
    "intellectual": "智力残疾",
    "mental": "精神残疾",
    "multiple": "多重残疾",
}
DISABILITY_LEVELS = (1, 2, 3, 4)  # 一级 (most severe) .. 四级

# A household's survey progress: it only moves forward (monotonic in the sync issue).
SURVEY_STATUSES = {"not_visited": "未走访", "visited": "已走访", "confirmed": "已核实"}
