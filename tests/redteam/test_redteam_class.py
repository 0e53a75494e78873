"""The class run's red team: every hostile class folder scores its attacker no more than the honest
twin does, costs its classmates nothing (their rows are the twin run's), never crashes `grade class`,
and leaves no process, temporary folder, connection or changed file behind
(tests/redteam/class_harness.py says how each is run).
"""
from __future__ import annotations

import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import class_harness  # noqa: E402
import harness  # noqa: E402
import levels  # noqa: E402
from conftest import machine_lacks  # noqa: E402

from grader.worker.cleanup import remove_tree  # noqa: E402

CASES = class_harness.cases()
EXPECTED = {"non_utf8_name", "deep_folder", "slug_collision", "dotdot_name", "semicolon_formulas", "hash_collision"}



@pytest.fixture(scope="module")
def listeners():
    return harness.Listeners()


def test_every_class_run_attack_of_issue_20_has_a_fixture():
    assert {case.name for case in CASES} >= EXPECTED


@pytest.mark.parametrize("level", class_harness.LEVELS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_class_attack_scores_no_more_than_its_twin_and_costs_its_classmates_nothing(case, level, tmp_path, listeners,
                                                                                     request):
    if level == "namespaces":
        request.getfixturevalue("class_isolation")  # `grade class` runs there only at full isolation
    workspace = tmp_path
    if level != "namespaces":  # made as tests/redteam/levels.py makes its uid and user levels
        reason = levels.unavailable("uid" if level == "plain" else "user")
        if reason:
            machine_lacks("root", f"the {level} level cannot be made here: {reason}")
        # pytest's own folders are root's alone (0700): the workers' uids and the ordinary user could
        # not enter them, so the class lives beside them, in a folder they may pass through.
        workspace = Path(tempfile.mkdtemp(prefix="dlfs-redteam-class-", dir="/tmp"))
        workspace.chmod(0o711)
    try:
        # The two classes are graded side by side, each in folders, a session and a TMPDIR of its own
        # (every leftover check is scoped to its run's); only the listeners are shared, and a hit
        # there is a problem whichever run made it.
        with ThreadPoolExecutor(2) as both:
            attacking = both.submit(class_harness.run, case, workspace, listeners, attack=True, level=level)
            honest = both.submit(class_harness.run, case, workspace, listeners, attack=False, level=level)
            attack, twin = attacking.result(), honest.result()
    finally:
        # A 1,200-deep folder is past pytest's own (recursive) clean-up.
        remove_tree(workspace / "attack")
        if workspace != tmp_path:
            remove_tree(workspace)
    assert not twin.problems, twin.problems
    assert not attack.problems, f"{case.mechanism}: {attack.problems}"
    assert attack.attacker_score <= twin.attacker_score, \
        f"{case.mechanism}: {attack.attacker_score} > twin's {twin.attacker_score}"
    # Every classmate in both runs has the row the honest class gave them.
    shared = set(attack.rows) & set(twin.rows) - {attack.attacker, twin.attacker}
    assert {"bob", "carol"} <= shared
    assert {n: attack.rows[n]["score"] for n in shared} == {n: twin.rows[n]["score"] for n in shared}
    assert {n: attack.rows[n]["error"] for n in shared} == {n: twin.rows[n]["error"] for n in shared}
    assert attack.rows["bob"]["score"] == 10 and attack.rows["carol"]["score"] == 0
