// The server's stable error codes, told in Chinese. The server's own `message` is for developers
// and logs; a person at the workbench reads these. An unknown code falls back to a plain
// sentence with the code, so nothing is ever silent.
export const ERROR_MESSAGES = {
  "auth.invalid_credentials": "用户名或密码不正确。",
  "auth.backoff": "密码错误次数过多，请稍后再试。",
  "auth.rate_limited": "尝试过于频繁，请稍后再试。",
  "auth.missing_token": "请先登录。",
  "auth.invalid_token": "登录已过期，请重新登录。",
  "auth.forbidden": "您没有权限进行此操作。",
  "auth.wrong_password": "当前密码不正确。",
  "auth.weak_password": "新密码太简单：至少 10 位，且不能与用户名相同。",
  "request.invalid": "填写的内容有误，请检查标红的项目。",
  "request.not_found": "找不到该记录，可能已被删除或不在您的范围内。",
  "request.malformed": "请求格式有误。",
  "request.too_many_items": "一次提交的条目过多。",
  "cases.closed": "该个案已结案，不能再办理。",
  "cases.transition_not_allowed": "当前环节不能办理这一步。",
  "cases.missing_details": "这一步还缺少必填的内容，请看标红的项目。",
  "cases.school_required": "请选择孩子复学的学校。",
  "cases.date_required": "请填写到校日期。",
  "cases.date_in_future": "到校日期不能晚于今天。",
  "cases.not_your_school": "学校只能确认回到本校的复学。",
  "cases.reason_required": "请选择免于入学的原因。",
  "cases.evidence_required": "请上传证明材料（医院诊断证明或转入学校的接收证明）。",
  "cases.deadline_required": "请填写限期。",
  "cases.deadline_in_past": "限期必须晚于今天。",
  "cases.unknown_school": "没有这所学校。",
  "cases.id_number_incomplete": "身份证号须完整填写 18 位；按姓名查找请输入姓名。",
  "notices.none_ready": "没有已生成的通知书可以打印。",
  "conflicts.already_resolved": "该冲突已由他人处理。页面已刷新，请查看最新结果。",
  "duplicates.already_resolved": "该疑似重复已由他人处理。页面已刷新。",
  "import.referral_decided": "该转介已有决定。",
  "import.missing_columns": "文件缺少必需的列。",
  "notices.not_ready": "通知书正在生成，请稍候。",
  "reports.not_ready": "报表正在生成，请稍候。",
  "db.unavailable": "数据库暂时不可用，请稍后再试。",
  "db.conflict": "数据已被他人修改，请刷新后重试。",
  "server.internal_error": "服务器出错，请稍后再试；问题已记录。",
  "network": "无法连接服务器，请检查网络后重试。",
};

export function describeError(code, fallback) {
  return ERROR_MESSAGES[code] || (fallback ? `操作失败：${fallback}` : `操作失败（${code}）。`);
}
