"""`hibahbansos seed-demo` fills a living system: hundreds of proposals over every state of the workflow."""

from __future__ import annotations

from hibahbansos import db
from hibahbansos.cli import main
from hibahbansos.hibah.workflow import for_region


def test_seed_demo_fills_every_state_with_a_consistent_trail(app, cli_env):
    res = cli_env.invoke(main, ["seed-demo"])
    assert res.exit_code == 0, res.output
    conn = db.connect(app.config["DATABASE"])
    try:
        states = {s for (s,) in conn.execute("SELECT DISTINCT state FROM proposals")}
        assert states == set(for_region(app.extensions["hibahbansos.region"]).used_states)
        assert conn.execute("SELECT COUNT(*) FROM proposals").fetchone()[0] >= 300
        assert conn.execute("SELECT COUNT(*) FROM organisations").fetchone()[0] >= 300
        # The cached amounts agree with the trail they come from.
        mismatched = conn.execute(
            "SELECT COUNT(*) FROM proposals p WHERE p.disbursed_amount != (SELECT COALESCE(SUM(amount), 0)"
            " FROM amounts a WHERE a.proposal_id = p.id AND a.kind = 'disbursed')"
        ).fetchone()[0]
        assert mismatched == 0
        overdue = conn.execute(
            "SELECT COUNT(*) FROM proposals WHERE state = 'disbursed' AND lpj_due_date < date('now')"
        )
        assert overdue.fetchone()[0] > 0, "earlier years leave overdue LPJ for the dashboard"
    finally:
        conn.close()
    assert "hibah: " in res.output and "pemohon" in res.output
    verify = cli_env.invoke(main, ["audit", "verify"])
    assert verify.exit_code == 0, verify.output
