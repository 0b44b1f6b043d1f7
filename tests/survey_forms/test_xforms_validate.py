"""Every XForm we serve passes ODK Validate (JavaRosa, the engine of ODK Collect), with its
entity declarations; ODK Validate's jar ships in pyxform's wheel and runs on Debian's Java."""

import shutil

import pytest
from pyxform.validators.odk_validate import ODKValidateError, check_xform

from survey_forms.builtin import BUILTIN_FORMS, compile_builtin_forms

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="no Java (scripts/setup.sh installs it)")
FORMS = compile_builtin_forms()


@pytest.mark.parametrize("form_id", [f.form_id for f in BUILTIN_FORMS])
def test_the_builtin_xform_passes_odk_validate(form_id, tmp_path):
    path = tmp_path / f"{form_id}.xml"
    path.write_text(FORMS[form_id].to_xform(), encoding="utf-8")
    assert check_xform(str(path)) == []


def test_odk_validate_refuses_a_broken_expression(tmp_path):
    # The check above can fail: a constraint with unbalanced brackets is refused.
    xform = FORMS["followup_visit"].to_xform()
    broken = xform.replace('constraint=". &lt;= today()"', 'constraint=". &lt;= today("', 1)
    assert broken != xform
    path = tmp_path / "broken.xml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ODKValidateError, match="Mismatched brackets"):
        check_xform(str(path))


def test_the_forms_declare_their_entities():
    household = FORMS["household_survey"].to_xform()
    assert 'dataset="households" update="1"' in household
    assert 'entities:saveto="head_name"' in household
    assert 'src="jr://file-csv/households.csv"' in household
    child = FORMS["child_survey"].to_xform()
    assert 'dataset="children" create="1" update="1"' in child
    assert 'entities:saveto="child_name"' in child
    # A tablet never receives an ID number, so the form never saves one to the entity list.
    assert 'entities:saveto="id_number"' not in child
    assert "trunkVersion" in child and "branchId" in child
