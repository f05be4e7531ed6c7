"""The browser sees the app: sign-in in English and Chinese, the company's home, and Chinese
characters drawn with a real font (not empty boxes)."""

import pytest

from tests.browser.conftest import screenshot
from tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

# Two different characters: drawn with no font that has them, both are the same empty box.
GLYPHS_DIFFER = """([first, second]) => {
  const canvas = document.createElement('canvas');
  canvas.width = 48; canvas.height = 48;
  const pen = canvas.getContext('2d');
  const draw = (text) => {
    pen.clearRect(0, 0, 48, 48);
    pen.font = '40px sans-serif';
    pen.fillText(text, 2, 40);
    return pen.getImageData(0, 0, 48, 48).data.join(',');
  };
  return draw(first) !== draw(second);
}"""


def sign_in(page, live_server, email: str):
    page.goto(f"{live_server.url}/app/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_sign_in_and_see_the_company(make_tenant, live_server, open_page, tmp_path):
    made = make_tenant("acme", name="Acme Ltd")
    page = open_page()
    page.goto(f"{live_server.url}/app/login/")
    assert page.title().startswith("Sign in")
    screenshot(page, "sign-in", tmp_path)
    sign_in(page, live_server, made.admin.email)
    page.wait_for_url(f"{live_server.url}/app/")
    assert page.locator("h1").inner_text() == "Welcome to Acme Ltd"
    screenshot(page, "home", tmp_path)
    # a wrong password is refused at the form, in words
    other = open_page()
    other.goto(f"{live_server.url}/app/login/")
    other.fill("input[name=username]", made.admin.email)
    other.fill("input[name=password]", "not-the-password")
    other.click("button[type=submit]")
    other.locator("[role=alert]").first.wait_for()  # the refused form, once it is back
    assert "not-the-password" not in other.content()


def test_chinese_pages_draw_real_glyphs(make_tenant, live_server, open_page, tmp_path):
    make_tenant("acme", name="Acme Ltd")
    page = open_page(locale="zh-CN")
    page.goto(f"{live_server.url}/app/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h1").inner_text() == "登录"
    assert page.evaluate(GLYPHS_DIFFER, ["中", "文"]), "Chinese renders as empty boxes: no CJK font"
    # the check itself: two private-use characters, in no font, are the same box
    assert not page.evaluate(GLYPHS_DIFFER, ["\ue000", "\ue001"])
    screenshot(page, "sign-in-zh", tmp_path)
