"""`foyer campaign …` run as a real subprocess against the test server: a dry run names each bad
row and column and exits 1; a real start with --follow draws its progress to the end and exits 0
with every row invited and mailed once; API errors print the Graph message and exit non-zero."""

import asyncio
import os
import sys
import uuid
from pathlib import Path

from foyer.models.enums import Role

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("version:v1.0\n"
          "Email address to invite [inviteeEmail] Required,Redirection url [inviteRedirectURL] Required,"
          "Send invitation message (true or false) [sendEmail],"
          "Customized invitation message [customizedMessageBody]\n")


async def foyer(*args: str, timeout: float = 100) -> tuple[int, str, str]:
    """Run `python -m foyer.cli ARGS` without blocking this loop (the test server runs in it)."""
    env = {k: v for k, v in os.environ.items() if k != "FOYER_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "foyer.cli", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, out.decode(), err.decode()


def token_of(headers: dict) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def test_dry_run_prints_each_bad_row_and_exits_1(server, make_token, tmp_path):
    token = token_of(await make_token(Role.global_administrator, name="CLI admin"))
    domain = f"dry-{uuid.uuid4().hex[:6]}.example"
    path = tmp_path / "guests.csv"
    path.write_text(HEADER
                    + f"ana@{domain},https://app.contoso.test/,true,\n"   # row 3: fine
                    + "not-an-address,https://app.contoso.test/,true,\n"  # row 4: bad address
                    + f"ben@{domain},,true,\n"                           # row 5: no redirect URL
                    + f"ana@{domain},https://app.contoso.test/,true,\n")  # row 6: duplicate
    code, out, err = await foyer("campaign", "start", str(path), "--dry-run", "--api", server, "--token", token)
    assert code == 1, (out, err)
    assert "row 4, column inviteeEmail: 'not-an-address' is not a valid email address [badAddress]" in out
    assert "row 5, column inviteRedirectURL: the redirection URL is missing [missingRedirectUrl]" in out
    assert f"row 6, column inviteeEmail: ana@{domain} is already on row 3 [duplicateInFile]" in out
    assert "row 3," not in out
    assert out.strip().splitlines()[-1] == "dry run: 4 rows, 1 valid, 3 invalid; nobody was invited"

    # A clean file: exit 0, still nobody invited.
    clean = tmp_path / "clean.csv"
    clean.write_text(HEADER + f"cleo@{domain},https://app.contoso.test/,true,\n")
    code, out, err = await foyer("campaign", "start", str(clean), "--dry-run", "--api", server, "--token", token)
    assert code == 0, (out, err)
    assert "1 valid, 0 invalid" in out


async def test_start_and_follow_twenty_rows(server, make_token, mail, tmp_path):
    token = token_of(await make_token(Role.global_administrator, name="CLI admin"))
    domain = f"cli-{uuid.uuid4().hex[:6]}.example"
    emails = [f"guest{i:02d}@{domain}" for i in range(20)]
    path = tmp_path / "twenty.csv"
    path.write_text(HEADER + "".join(f"{e},https://app.contoso.test/,true,Welcome aboard\n" for e in emails))

    code, out, err = await foyer("campaign", "start", str(path), "--name", "CLI partners", "--concurrency", "5",
                                 "--follow", "--api", server, "--token", token)
    assert code == 0, (out, err)
    lines = out.strip().splitlines()
    campaign_id = lines[0]
    uuid.UUID(campaign_id)  # the first line is the campaign id alone
    assert "20 rows, 20 to invite, 0 skipped" in err
    final = lines[-1]
    assert "100% 20/20 completed · invited 20 · skipped 0 · failed 0 · canceled 0" in final, final
    assert "\r" not in out  # not a terminal: plain lines
    for email in emails:
        await mail.wait_for(email)
    assert all(len(mail.to(e)) == 1 for e in emails)

    # status of the finished campaign; pause of an ended one is refused with the API's message.
    code, out, err = await foyer("campaign", "status", campaign_id, "--api", server, "--token", token)
    assert code == 0, (out, err)
    assert out.splitlines()[0] == f"CLI partners ({campaign_id})" and "invited 20" in out
    code, out, err = await foyer("campaign", "pause", campaign_id, "--api", server, "--token", token)
    assert code == 1 and "the campaign is completed (campaignEnded)" in err, (out, err)


async def test_api_errors_print_the_graph_message(server, make_token, tmp_path):
    code, _, err = await foyer("campaign", "status", str(uuid.uuid4()), "--api", server, "--token", "nope")
    assert code == 1 and "Access token is not valid." in err, err
    token = token_of(await make_token(Role.global_administrator))
    missing = str(uuid.uuid4())
    code, _, err = await foyer("campaign", "status", missing, "--api", server, "--token", token)
    assert code == 1 and f"campaign {missing} does not exist" in err, err
    inviter = token_of(await make_token(Role.guest_inviter))
    path = tmp_path / "one.csv"
    path.write_text(HEADER + "x@fabrikam.example,https://app.contoso.test/,true,\n")
    code, _, err = await foyer("campaign", "start", str(path), "--api", server, "--token", inviter)
    assert code == 1 and "Insufficient privileges" in err, err


def test_follow_redraws_one_line_on_a_terminal_and_exits_by_outcome():
    """follow() against a scripted API: a terminal gets one line redrawn with \\r; failed rows
    exit 2, a canceled campaign 3."""
    import io

    import httpx

    from foyer.campaign_cli import follow

    def body(state, invited, failed=0, canceled=0, pending=0):
        return {"id": "c1", "displayName": "T", "state": state, "rowCount": 4, "rowsPerSecond": 1.5,
                "etaSeconds": pending, "counts": {"pending": pending, "invited": invited, "redeemed": 0,
                                                  "skipped": 0, "failed": failed, "canceled": canceled}}

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for answers, expected in (
            ([body("running", 1, pending=3), body("running", 3, pending=1), body("completed", 4)], 0),
            ([body("running", 1, pending=3), body("completed", 3, failed=1)], 2),
            ([body("paused", 1, pending=3), body("canceled", 1, canceled=3)], 3)):
        script = iter(answers)
        client = httpx.Client(base_url="http://api.test", transport=httpx.MockTransport(
            lambda request, script=script: httpx.Response(200, json=next(script))))
        out = Terminal()
        assert follow(client, "c1", interval=0, out=out) == expected
        text = out.getvalue()
        assert text.count("\r") == len(answers) and text.endswith("\n") and text.count("\n") == 1
        final = text.rsplit("\r", 1)[1]
        assert f"100% 4/4 {answers[-1]['state']} · " in final
