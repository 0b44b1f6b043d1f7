"""What an XForm client shows the surveyor when a submission is refused, in Chinese.

ODK Collect puts the OpenRosaResponse message in front of the surveyor, who has the household
in front of them: the message says what to do, names the question by its label, and keeps the
stable code in brackets for whoever reads the server's logs."""

from __future__ import annotations

from survey_forms import CompiledForm

# By stable code (server/errors.py, the push's receipts, survey_forms' validation).
_BY_CODE = {
    "sync.submission_id_reused": "这份表单（instanceID）已用其他内容提交过，原提交保持不变；请新建一份表单。",
    "sync.unknown_reference": "所选的住户或儿童服务器上还没有（可能另一份表单尚未上传），请稍后重新发送。",
    "sync.out_of_scope": "这条记录不在本平板所包的村，不能修改；如有调整请联系督导。",
    "sync.record_deleted": "这条记录已被合并或删除，请刷新表单和名单后再填。",
    "sync.read_only_record": "这条记录不能在平板上修改。",
    "sync.visit_append_only": "走访记录提交后不能修改，请新建一份走访记录。",
    "sync.unknown_form": "服务器上没有这个表单版本，请在“获取空白表单”中更新表单。",
    "sync.form_record_mismatch": "表单与记录类型不符，请更新表单后重填。",
    "sync.invalid_record": "记录信息不完整，请更新表单和名单后重填。",
    "sync.retry": "服务器暂时繁忙，请稍后重新发送。",
    "sync.internal_error": "服务器未能处理这份表单，已记录；请稍后重新发送，或联系督导。",
    "openrosa.malformed_xml": "表单文件已损坏，无法读取；请重新发送。",
    "openrosa.missing_instance_id": "表单缺少编号（instanceID），请更新表单后重填。",
    "openrosa.unknown_form": "服务器上没有这个表单版本，请在“获取空白表单”中更新表单。",
    "openrosa.invalid_entity": "表单中的名单信息有误，请更新名单（获取空白表单）后重填。",
    "openrosa.no_record": "没有选择住户或儿童，请在表单中选择后再发送。",
    "openrosa.missing_submission": "请求中没有表单文件（xml_submission_file）。",
    "openrosa.instance_changed": "这份表单已提交过，但内容与第一次不同；服务器保留第一次的内容。",
}
_BY_FIELD_CODE = {
    "form.required": "必填",
    "form.choice": "选项不在表单的选项中",
    "form.type": "格式不对",
    "form.date": "日期不对",
    "form.geopoint": "位置不对",
    "form.range": "超出范围",
    "form.length": "太长",
    "form.pattern": "格式不对",
    "form.image": "照片有误",
    "form.nul_character": "含有无效字符",
    "form.unknown_field": "表单中没有这一项",
}


def refusal(errors: list[dict], form: CompiledForm | None) -> str:
    """One message for the surveyor about every error of a refused submission."""
    labels = {f.record_field: f for f in form.fields} if form is not None else {}
    parts: list[str] = []
    for error in errors:
        code = error.get("code") or ""
        name = (error.get("field") or "").removeprefix("record.fields.")
        if code in _BY_CODE:
            text = _BY_CODE[code]
        elif code.startswith("id_number."):
            field = labels.get("id_number")
            text = f"“{field.label if field else '公民身份号码'}”不是有效的号码（位数、出生日期或校验位不对），请核对户口簿。"
        elif code.startswith("form.") or code == "sync.invalid_submission" and name in labels:
            field = labels.get(name)
            label = field.label if field is not None else name
            detail = (field.constraint_message if field is not None and code in ("form.pattern", "form.range")
                      and field.constraint_message else _BY_FIELD_CODE.get(code, "有误"))
            text = f"“{label}”{detail}。"
        else:
            text = "提交被拒绝。"
        parts.append(f"{text}（{code}）" if code else text)
    return " ".join(dict.fromkeys(parts)) or "提交被拒绝。"


def accepted(receipt: dict, missing_files: list[str]) -> str:
    """What the surveyor reads after a submission was taken."""
    conflicts = receipt.get("conflicts") or []
    text = "提交成功。"
    if conflicts:
        text += f"有 {len(conflicts)} 项与其他平板填写的不同，两种填写都已保留，等待督导核实。"
    if missing_files:
        text += "未收到附件：" + "、".join(missing_files) + "，请重新发送这份表单。"
    return text
