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
  "import.missing_column": "文件中没有这一列（或其常见写法）。",
  "import.empty_file": "文件是空的。",
  "import.unreadable_file": "文件无法读取：请上传 UTF-8 或 GB18030 编码的 CSV，或 XLSX 文件。",
  "import.unsupported_format": "请上传 CSV 或 XLSX 文件。",
  "import.no_header": "文件前几行中找不到表头。",
  "import.workbook_too_large": "工作簿解压后过大，请另存为 CSV 后上传。",
  "import.file_missing": "上传的文件已不在服务器上，请重新上传。",
  "import.internal_error": "导入在服务器上失败，问题已记录。",
  "import.mode_invalid": "导入方式只能是完整名册或更正行（学籍只能完整导入）。",
  "http.413": "文件过大，无法上传。",
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
