// Words for codes, from the server (GET /api/v1/labels): field and choice labels come from the
// forms in use, so the workbench says what the tablets' questions say.
import { reactive } from "vue";
import { get } from "./api.js";

export const labels = reactive({ loaded: false, fields: {}, roles: {}, lines: {}, case_statuses: {},
  exemption_reasons: {}, notice_kinds: {}, task_reasons: {}, genders: {}, device_statuses: {}, map_priorities: {},
  survey_statuses: {} });

let loading = null;
export function loadLabels() {
  if (!loading) {
    loading = get("/labels").then((data) => { Object.assign(labels, data, { loaded: true }); })
      .catch((error) => { loading = null; throw error; });
  }
  return loading;
}
export function resetLabels() { loading = null; labels.loaded = false; }

// The label of a record's field ("enrollment_status" → "就学状态"); the code itself when no form has it
export function fieldLabel(recordType, field) {
  const entry = (labels.fields[recordType] || {})[field];
  return entry ? entry.label : field;
}

// The label of a field's value (a choice, a yes/no, a list of choices)
export function valueLabel(recordType, field, value) {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.map((v) => valueLabel(recordType, field, v)).join("、");
  const entry = (labels.fields[recordType] || {})[field];
  const key = value === true ? "true" : value === false ? "false" : String(value);
  if (entry && entry.choices && key in entry.choices) return entry.choices[key];
  if (value === true) return "是";
  if (value === false) return "否";
  return String(value);
}

export const roleLabel = (role) => labels.roles[role] || role;
export const caseStatusLabel = (status) => labels.case_statuses[status] || status;
export const noticeKindLabel = (kind) => labels.notice_kinds[kind] || kind;
export const taskReasonLabel = (reason) => labels.task_reasons[reason] || reason;
export const genderLabel = (gender) => labels.genders[gender] || gender || "—";
export const deviceStatusLabel = (status) => labels.device_statuses[status] || status;
export const mapPriorityLabel = (priority) => labels.map_priorities[priority] || priority;
export const surveyStatusLabel = (status) => labels.survey_statuses[status] || status;
export const lineLabel = (line) => labels.lines[line] || line || "—";
