// Dates as a county writes them (2026年5月28日) and times in Beijing time, whatever the
// computer's own time zone: the server stores UTC, a supervisor in 海安 reads 北京时间.
const ZONE = "Asia/Shanghai";

const dateParts = new Intl.DateTimeFormat("zh-CN", { timeZone: ZONE, year: "numeric", month: "numeric", day: "numeric" });
const timeParts = new Intl.DateTimeFormat("zh-CN", { timeZone: ZONE, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

function parts(formatter, date) {
  const out = {};
  for (const p of formatter.formatToParts(date)) out[p.type] = p.value;
  return out;
}

// A calendar date (YYYY-MM-DD, no time) is a date, not an instant: never shift it by a zone.
export function formatDate(value) {
  if (!value) return "—";
  const plain = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (plain) return `${Number(plain[1])}年${Number(plain[2])}月${Number(plain[3])}日`;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const p = parts(dateParts, date);
  return `${p.year}年${p.month}月${p.day}日`;
}

export function formatTime(value) {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const p = parts(timeParts, date);
  return `${p.hour}:${p.minute}`;
}

export function formatDateTime(value) {
  if (!value) return "—";
  return `${formatDate(value)} ${formatTime(value)}`;
}

export function formatPercent(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return `${(value * 100).toFixed(digits)}%`;
}

export function formatCount(value) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString("zh-CN");
}

// Today's date in Beijing, as YYYY-MM-DD (for date inputs' defaults)
export function todayInBeijing() {
  const p = parts(new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" }), new Date());
  return `${p.year}-${p.month}-${p.day}`;
}
