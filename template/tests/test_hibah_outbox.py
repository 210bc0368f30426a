"""Email: kept in the outbox without SMTP; sent through a real (local) SMTP server when the profile names one."""

from __future__ import annotations

import socketserver
import threading

from hibahbansos.hibah import outbox


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to receive messages: EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self) -> None:
        self.wfile.write(b"220 localhost ESMTP test\r\n")
        while line := self.rfile.readline():
            cmd = line.decode().strip().upper()
            if cmd.startswith(("EHLO", "HELO")):
                self.wfile.write(b"250 localhost\r\n")
            elif cmd.startswith(("MAIL FROM", "RCPT TO", "RSET")) or cmd == "NOOP":
                self.wfile.write(b"250 OK\r\n")
            elif cmd == "DATA":
                self.wfile.write(b"354 end with .\r\n")
                body = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(data.decode())
                self.server.received.append("".join(body))
                self.wfile.write(b"250 queued\r\n")
            elif cmd == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 not implemented\r\n")


def test_without_smtp_messages_stay_in_the_outbox_for_the_admin(world, client, login):
    p = world.proposal("submitted")
    row = world.conn.execute("SELECT to_addr, subject, sent_at FROM outbox ORDER BY id DESC LIMIT 1").fetchone()
    assert row == ("applicant@contoh.invalid", f"Proposal {p.tracking_no}: Diajukan", None)
    login("admin")
    page = client.get("/admin/kotak-keluar").get_data(as_text=True)
    assert f"Proposal {p.tracking_no}: Diajukan" in page
    assert "Server SMTP belum diatur" in page


def test_with_smtp_messages_are_delivered(world):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        world.region.data["email"] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": server.server_address[1],
            "starttls": False,
            "username": None,
            "sender": "hibah@contoh.invalid",
        }
        p = world.proposal("submitted")
        sent, failed = outbox.deliver_pending(world.conn, world.region)
    finally:
        server.shutdown()
        server.server_close()
    assert (sent, failed) == (1, 0)
    assert any(f"Subject: Proposal {p.tracking_no}: Diajukan" in m for m in server.received)
    assert world.conn.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0] == 0


def test_an_unreachable_smtp_server_keeps_the_message_and_its_error(world):
    world.region.data["email"] = {"smtp_host": "127.0.0.1", "smtp_port": 9, "starttls": False}
    world.proposal("submitted")
    sent, failed = outbox.deliver_pending(world.conn, world.region)
    assert sent == 0 and failed >= 1
    row = world.conn.execute("SELECT sent_at, attempts, last_error FROM outbox ORDER BY id DESC LIMIT 1").fetchone()
    assert row == (None, 1, "ConnectionRefusedError")


def test_outbox_send_without_smtp_says_so(world, cli_env):
    from hibahbansos.cli import main

    if world.region.data.get("email", {}).get("smtp_host"):
        return  # this region has a server; the delivery test above covers it
    res = cli_env.invoke(main, ["outbox", "send"])
    assert res.exit_code == 1
    assert "Error: no SMTP server in the profile (email.smtp_host); messages stay in the outbox" in res.output
