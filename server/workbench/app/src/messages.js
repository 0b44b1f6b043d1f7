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
  // People and tablets (server/staff, server/devices)
  "staff.username_taken": "该用户名已被使用，请换一个。",
  "staff.unknown_town": "没有这个区镇。",
  "staff.town_required": "区镇督导必须指定区镇。",
  "staff.line_required": "组长和调查员必须指定工作线（政府线或学校线）。",
  "staff.unknown_school": "学校账号必须选择一所学校。",
  "staff.school_elsewhere": "所选学校不在该区镇。",
  "staff.school_not_for_role": "只有学校账号才选择学校。",
  "staff.town_not_for_role": "市教体局账号不属于某个区镇。",
  "staff.not_yourself": "不能停用自己的账号。",
  "staff.village_not_in_town": "所选村（社区）不属于该工作组所在的区镇。",
  "staff.not_joinable": "该人员不是您范围内在用的调查员或组长。",
  "staff.other_line": "该人员与工作组不在同一条工作线上。",
  "devices.not_a_surveyor": "该人员不是您所管工作组在用的调查员或组长。",
};

export function describeError(code, fallback) {
  return ERROR_MESSAGES[code] || (fallback ? `操作失败：${fallback}` : `操作失败（${code}）。`);
}
