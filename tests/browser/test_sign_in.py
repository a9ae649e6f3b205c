"""Sign in, the language switch and sign out, in Chromium: the form works without
JavaScript help, the chosen language sticks, and the user's role and scope are shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _site import Site


def test_a_data_owner_signs_in_switches_language_and_signs_out(
    site: Site, open_page: Any, screenshots: Path
) -> None:
    page = open_page(site, None)
    page.goto(site.url + "/")
    assert page.url.startswith(site.url + "/sign-in")  # sent to sign in, and back after
    page.get_by_label("Username").fill("cloud.owner")
    page.get_by_label("Password").fill(site.passwords["cloud.owner"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site.url + "/")
    header = page.locator("header")
    assert "cloud.owner" in header.inner_text()
    assert "Data owner" in header.inner_text()
    assert "CLOUD" in header.inner_text()
    page.screenshot(path=str(screenshots / "sign-in-done.en.png"))

    page.get_by_role("link", name="中文").click()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "数据负责人" in page.locator("header").inner_text()
    page.goto(site.url + "/")  # the choice is kept
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(site.url + "/sign-in")
    page.goto(site.url + "/")
    assert page.url.startswith(site.url + "/sign-in")
    assert page.esgledger_errors == []  # no script error, no CSP refusal


def test_a_wrong_password_is_refused_with_a_message_in_the_users_language(
    site: Site, open_page: Any
) -> None:
    page = open_page(site, None, lang="zh-CN")
    page.goto(site.url + "/sign-in")
    page.get_by_label("用户名").fill("cloud.owner")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    assert "用户名或密码不正确" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("用户名").input_value() == "cloud.owner"
