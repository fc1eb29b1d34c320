"""The database: processes that start together on a new PostgreSQL database all come up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import fresh_database


def test_processes_starting_together_on_a_new_database_migrate_it_once(tmp_path: Path) -> None:
    with fresh_database(tmp_path, postgres=True) as url:
        env = {**os.environ, "AIPAINT_DATABASE_URL": url, "AIPAINT_DATA_DIR": str(tmp_path)}
        # `aipaint token create` brings the database to the latest revision first, as every
        # process does at start-up.
        command = [sys.executable, "-m", "aipaint", "token", "create", "--name"]
        processes = [
            subprocess.Popen([*command, f"p{n}"], env=env, stdout=subprocess.PIPE, text=True)
            for n in range(4)
        ]
        tokens = [process.communicate(timeout=60)[0].splitlines()[-1] for process in processes]
        assert [process.returncode for process in processes] == [0] * 4
        assert len(set(tokens)) == 4
