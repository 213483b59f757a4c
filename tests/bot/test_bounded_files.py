"""Files of unknown size are refused as soon as they pass a limit, not after reading them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bounded_files import FileTooLarge, read_text_limited
from bot.cli import main
from bot.csv_leads import UnreadableCsv, read_leads
from domain.lead import BUILTIN_LEAD_TYPES

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def test_an_endless_file_is_refused_after_the_limit() -> None:
    with pytest.raises(FileTooLarge, match="larger than 1000 bytes"):
        read_text_limited(Path("/dev/zero"), 1000)


def test_config_validate_of_an_endless_file_says_too_large(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["config", "validate", "/dev/zero"])
    assert exited.value.code == 1
    assert "file larger than 1000000 bytes" in capsys.readouterr().err


def test_csv_import_of_an_endless_line_is_refused() -> None:
    with pytest.raises(UnreadableCsv, match="line 1 is longer than"):
        read_leads(Path("/dev/zero"), set(BUILTIN_LEAD_TYPES), NOW)


def test_a_wide_header_is_checked_for_duplicates_in_one_pass(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    names = [f"c{index}" for index in range(100_000)] + ["c7"]
    path.write_text(",".join(names) + "\n", encoding="utf-8")
    with pytest.raises(UnreadableCsv, match="duplicate columns: c7"):
        read_leads(path, set(BUILTIN_LEAD_TYPES), NOW)
