"""Clinic details come from clinic.yml and can be overridden from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.clinic import CLINIC_FILE, load_clinic


def test_file_values_are_used_without_overrides() -> None:
    clinic = load_clinic(CLINIC_FILE, environ={})
    assert clinic.clinic_name and clinic.care_team_phone and clinic.nurse_line_phone
    assert clinic.emergency_number == "911"


def test_environment_overrides_the_file() -> None:
    clinic = load_clinic(
        CLINIC_FILE,
        environ={"CLINIC_NAME": "North Spine", "CLINIC_CARE_TEAM_PHONE": "555-0123",
                 "CLINIC_EMERGENCY_NUMBER": "999"},
    )
    assert (clinic.clinic_name, clinic.care_team_phone, clinic.emergency_number) == (
        "North Spine", "555-0123", "999")


def test_a_missing_phone_number_is_an_error_not_a_blank_in_replies(tmp_path: Path) -> None:
    path = tmp_path / "clinic.yml"
    path.write_text("clinic_name: X\ncare_team_phone: ''\nnurse_line_phone: '1'\n")
    with pytest.raises(ValueError, match="care_team_phone"):
        load_clinic(path, environ={})
