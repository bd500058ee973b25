"""The designer page in a real headless Chromium (Debian's), driven by Playwright."""
import json
import shutil

import pytest
from PIL import Image

from tests.e2e.conftest import ADMIN_TOKEN

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def page(tmp_path):
    if CHROMIUM is None:
        pytest.fail("chromium is not installed: run scripts/setup.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Chromium's PDF viewer is an extension: keep extensions on so the preview is drawn
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True,
                                    ignore_default_args=["--disable-extensions", "--headless"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        yield page
        browser.close()


@pytest.mark.e2e
def test_designer_previews_a_fixture_and_shows_validation_errors(server, page, tmp_path):
    page.goto(server + "/designer")
    page.wait_for_function("document.getElementById('status').textContent.includes('401')", timeout=30000)
    page.fill("#token", ADMIN_TOKEN)
    page.press("#token", "Tab")  # leaving the field commits it (change event) and reloads with the key
    page.wait_for_function("document.getElementById('status').textContent.includes('PDF rendered')", timeout=60000)
    assert page.input_value("#template") == "classic" and page.input_value("#version") == "1.7.3"  # the latest first
    assert page.input_value("#fixture") == "invoice"
    assert json.loads(page.input_value("#payload"))["number"] == "F-2026-0125"
    assert page.get_attribute("#preview", "src").startswith("blob:")
    assert int(page.get_attribute("#preview", "data-size")) > 20000  # a real PDF came back
    assert "not archived" in page.text_content("#status")
    try:  # Chromium's PDF viewer loads its own resources; on a loaded machine it may never look idle
        page.wait_for_load_state("networkidle", timeout=10000)
    except Exception:  # noqa: BLE001 - the pixels below say whether the PDF was drawn
        pass
    page.wait_for_timeout(2500)  # let the PDF viewer paint
    shot = tmp_path / "designer.png"
    page.screenshot(path=str(shot))
    image = Image.open(shot).convert("RGB")
    assert image.size == (1400, 900)
    # the side panel's navy button is drawn
    panel = {image.getpixel((x, y)) for x in range(16, 400, 4) for y in range(500, 900, 4)}
    assert (15, 61, 94) in panel
    # the PDF is drawn beside it: a white page with the invoice's navy table header on it
    preview = [image.getpixel((x, y)) for x in range(700, 1390, 6) for y in range(120, 890, 6)]
    assert sum(1 for px in preview if px == (255, 255, 255)) > len(preview) // 3
    assert any(abs(r - 15) + abs(g - 61) + abs(b - 94) < 30 for r, g, b in preview)

    # a payload with a negative price: the problem+json errors appear next to it
    payload = json.loads(page.input_value("#payload"))
    payload["lines"][1]["unit_price"] = "-5"
    page.fill("#payload", json.dumps(payload))
    page.click("#render")
    try:
        page.wait_for_function("document.getElementById('errors').textContent.includes('lines.1.unit_price')",
                               timeout=30000)
    except Exception as exc:
        raise AssertionError(page.text_content("#status") + " | " + page.text_content("#errors")) from exc
    assert "422" in page.text_content("#status")
    assert "BR-27" in page.text_content("#errors")

    # another fixture, in English
    page.select_option("#fixture", "credit_note")
    page.wait_for_function("document.getElementById('payload').value.includes('A-2026-0007')")
    page.select_option("#language", "en")
    page.click("#render")
    page.wait_for_function("document.getElementById('errors').textContent === '' && "
                           "document.getElementById('status').textContent.includes('PDF rendered')", timeout=30000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(tmp_path / "designer-credit.png"))
