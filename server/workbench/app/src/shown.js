// A record's value as a supervisor reads it: choices by their labels from the forms, dates as
// 2026年5月28日, an ID number by its masked digits, a GPS point in words.
import { formatDate } from "./format.js";
import { valueLabel } from "./labels.js";

export function shownValue(recordType, field, value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "object" && !Array.isArray(value)) {
    if ("masked" in value || "lookup" in value) return value.masked || "（号码不可见）";
    if ("lat" in value && "lon" in value) {
      const accuracy = value.accuracy_m != null ? `，精度约 ${Math.round(value.accuracy_m)} 米` : "";
      return `北纬 ${Number(value.lat).toFixed(5)}，东经 ${Number(value.lon).toFixed(5)}${accuracy}`;
    }
    return JSON.stringify(value);
  }
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) return formatDate(value);
  return valueLabel(recordType, field, value);
}

export const RECORD_TYPES = { child: "儿童", household: "户", visit: "走访记录", task: "走访任务" };
