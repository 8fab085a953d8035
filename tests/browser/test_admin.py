"""Administration pages: office views, staff and devices, statistics with CSV, the office file."""

from __future__ import annotations

import re
from pathlib import Path

from browser_support import LiveServer, open_admin
from playwright.sync_api import BrowserContext, expect


def test_admin_sees_office_adds_staff_and_devices(
    context: BrowserContext, live: LiveServer
) -> None:
    page = open_admin(context)
    expect(page.locator("#categories")).to_contain_text("住民票・印鑑証明")
    expect(page.locator("#counters")).to_contain_text("c8")

    page.get_by_role("tab", name="職員").click()
    expect(page.locator("#staff")).to_contain_text("clerk0")
    page.get_by_label("ログイン名").fill("tanaka")
    page.get_by_label("初期パスワード（8文字以上）").fill("long-enough-1")
    page.get_by_role("button", name="追加する").click()
    expect(page.locator("#staff")).to_contain_text("tanaka")

    page.get_by_role("tab", name="端末・プリンター").click()
    expect(page.locator("#devices")).to_contain_text("kiosk-1")
    page.get_by_label("端末名").fill("board-lobby")
    page.get_by_label("種類").select_option("board")
    page.get_by_role("button", name="登録する").click()
    token = page.locator("#new-token").inner_text()
    assert token.startswith("mdgb_")
    expect(page.locator("#devices")).to_contain_text("board-lobby")
    # A clerk is not an admin.
    assert live.get("/api/v1/admin/staff", live.tokens.clerk).status_code == 403


def test_statistics_table_chart_and_csv(context: BrowserContext, live: LiveServer) -> None:
    ticket = live.issue("certificates")
    live.post(f"/api/v1/tickets/{ticket['id']}/call", live.tokens.clerk, {"counter_id": "c1"})
    live.post(f"/api/v1/tickets/{ticket['id']}/finish", live.tokens.clerk)
    page = open_admin(context)
    page.get_by_role("tab", name="統計").click()
    page.get_by_label("集計単位").select_option("clerk")
    page.get_by_role("button", name="表示").click()
    expect(page.locator("#stats-table")).to_contain_text("clerk0")
    expect(page.locator("#stats-chart svg rect.bar")).not_to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role("button", name="CSVで保存").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("clerk,issued,called,served")
    assert "clerk0" in text
    # By procedure and by counter the chart names them as people read them, not by cut ids.
    for by, expected in (("category", "A 住民票・印鑑証明"), ("counter", "1番窓口")):
        page.get_by_label("集計単位").select_option(by)
        page.get_by_role("button", name="表示").click()
        labels = page.locator("#stats-chart svg text[data-label]")
        expect(labels.first).to_have_attribute("data-label", expected)
        shown = labels.evaluate_all("ts => ts.map(t => t.textContent)")
        assert all(not re.fullmatch(r"[a-z0-9]+", label) for label in shown), shown


def test_office_file_round_trip_and_refusal(context: BrowserContext, live: LiveServer) -> None:
    page = open_admin(context)
    page.get_by_role("tab", name="設定ファイル").click()
    page.get_by_role("button", name="編集欄に読み込む").click()
    box = page.get_by_label("設定ファイルの内容")
    expect(box).to_have_value(re.compile(r"\[office\]"))
    original = box.input_value()
    box.fill(original.replace('ja = "戸籍"', 'ja = "戸籍（本籍地）"'))
    page.get_by_role("button", name="検証して反映する").click()
    expect(page.locator("#message")).to_contain_text("設定を反映しました")
    expect(page.locator("#categories")).to_contain_text("戸籍（本籍地）")

    box.fill(original.replace('prefix = "B"\n', ""))
    page.get_by_role("button", name="検証して反映する").click()
    expect(page.locator("#message")).to_contain_text("反映できませんでした")
    expect(page.locator("#message")).to_contain_text("prefix")
    box.fill(original)
    page.get_by_role("button", name="検証して反映する").click()
    expect(page.locator("#message")).to_contain_text("設定を反映しました")


def test_admin_revokes_a_device_disables_staff_and_reads_the_audit_log(
    context: BrowserContext, live: LiveServer
) -> None:
    added = live.post(
        "/api/v1/admin/devices", live.tokens.admin, {"name": "kiosk-spare", "kind": "kiosk"}
    ).json()
    live.post(
        "/api/v1/admin/staff",
        live.tokens.admin,
        {"name": "suzuki", "role": "clerk", "password": "long-enough-2"},
    )
    page = open_admin(context)
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations
    page.get_by_role("tab", name="端末・プリンター").click()
    page.locator("#revoke-kiosk-spare").click()
    expect(page.locator("#devices")).to_contain_text("失効済み")
    assert live.get("/api/v1/devices", added["token"]).status_code == 401
    page.get_by_role("tab", name="職員").click()
    page.locator("#disable-suzuki").click()
    expect(page.locator("#enable-suzuki")).to_be_visible()

    page.get_by_role("tab", name="監査ログ").click()
    log = page.locator("#audit")
    expect(log).to_contain_text("端末の失効")
    expect(log).to_contain_text("職員の無効化")
    expect(log).to_contain_text("kiosk-spare")
    with page.expect_download() as download:
        page.locator("#audit-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "id,at,actor,action,ticket_id,device,detail"
    assert "device.revoked" in text and "staff.disabled" in text
