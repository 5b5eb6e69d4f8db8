"""The gallery search page end to end in headless Chromium (Debian's chromium and
chromium-driver, driven by selenium): choose a gallery frame or upload an image,
drag the query box, search, and see the same ranking as GalleryIndex.search.

Skipped, saying why, where Flask, selenium, chromium or chromedriver is missing
(``.ci/run`` installs them).
"""
import shutil
import tempfile
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmssl.testing.footage import write_test_video

flask = pytest.importorskip('flask', reason='the web page needs Flask (mmssl[demo])')
webdriver = pytest.importorskip(
    'selenium.webdriver', reason='the browser test needs selenium (mmssl[demo])')

BROWSER = shutil.which('chromium') or shutil.which('chromium-browser')
DRIVER = shutil.which('chromedriver')
pytestmark = pytest.mark.skipif(
    BROWSER is None or DRIVER is None,
    reason='no headless browser: apt-get install chromium chromium-driver')

FLAGS = ('--headless', '--no-sandbox', '--disable-gpu',
         '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--window-size=1400,1000')


@pytest.fixture(scope='module')
def gallery(tiny_searcher, tmp_path_factory):
    """An index of 4 frames and a 6-frame video, with its model."""
    from mmssl.apis import GalleryIndex, init_searcher
    root = tmp_path_factory.mktemp('web_footage')
    frames = sorted(Path(tiny_searcher['data_root'], 'frames').glob('*.jpg'))[:6]
    video = write_test_video(str(root / 'cam.avi'), frames, 5.0)
    model = init_searcher(tiny_searcher['config'], tiny_searcher['checkpoint'])
    index = GalleryIndex.build(model, str(root / 'index'),
                               images=[str(p) for p in frames[:4]],
                               video=str(video), score_thr=0.0, progress=False)
    return dict(index=index, frames=frames)


@pytest.fixture(scope='module')
def server(gallery):
    """The page served on a loopback port for the module's tests."""
    from werkzeug.serving import make_server

    from mmssl.demo import create_app
    httpd = make_server('127.0.0.1', 0, create_app(gallery['index']), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_port}'
    httpd.shutdown()
    thread.join(10)


@pytest.fixture(scope='module')
def browser():
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    profile = tempfile.mkdtemp(prefix='mmssl-chromium-')
    for flag in FLAGS + (f'--user-data-dir={profile}', ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait(driver, condition, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout).until(condition)


def drag_box(driver, box, image_width):
    """Drag on the canvas from the box's top-left to its bottom-right corner."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    canvas = driver.find_element(By.ID, 'canvas')
    width, height = driver.execute_script(
        'return [arguments[0].clientWidth, arguments[0].clientHeight];', canvas)
    scale = width / image_width
    x1, y1, x2, y2 = (v * scale for v in box)
    # offsets are from the element's centre (W3C actions)
    ActionChains(driver).move_to_element_with_offset(
        canvas, round(x1 - width / 2), round(y1 - height / 2)).click_and_hold() \
        .move_by_offset(round(x2 - x1), round(y2 - y1)).release().perform()
    shown = driver.find_element(By.ID, 'box').text
    return [float(v) for v in shown.split()]


def frame_width(gallery):
    return cv2.imread(str(gallery['frames'][0])).shape[1]


def search_and_read(driver, k):
    from selenium.webdriver.common.by import By
    topk = driver.find_element(By.ID, 'topk')
    topk.clear()
    topk.send_keys(str(k))
    driver.find_element(By.ID, 'search').click()
    wait(driver, lambda d: d.find_element(By.ID, 'status').text.endswith('ms)'))
    cards = driver.find_elements(By.CSS_SELECTOR, '.match')
    wait(driver, lambda d: d.execute_script(
        'return Array.from(document.querySelectorAll(".match img"))'
        '.every(i => i.complete && i.naturalWidth > 0);'))
    return [(int(c.get_attribute('data-row')), float(c.get_attribute('data-similarity')),
             c.text) for c in cards]


def test_choose_a_gallery_frame_draw_and_search(gallery, server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    browser.get(server + '/')
    wait(browser, lambda d: d.find_element(By.ID, 'frames').get_attribute(
        'data-loaded') == '1')
    info = browser.find_element(By.ID, 'info').text
    assert f'{len(gallery["index"])} detections from 5 sources' in info
    choice = Select(browser.find_element(By.ID, 'frames'))
    video_options = [o.text for o in choice.options if 'cam.avi frame' in o.text]
    assert video_options == [f'cam.avi frame {i}' for i in range(6)]
    choice.select_by_visible_text('cam.avi frame 2')
    canvas = browser.find_element(By.ID, 'canvas')
    wait(browser, lambda d: canvas.get_attribute('data-loaded') == '1')
    box = drag_box(browser, [20, 10, 40, 70], frame_width(gallery))
    assert np.allclose(box, [20, 10, 40, 70], atol=1.5)
    shown = search_and_read(browser, 5)
    index = gallery['index']
    video = next(s['path'] for s in index.sources() if s['kind'] == 'video')
    frame = cv2.VideoCapture(video)
    frame.set(cv2.CAP_PROP_POS_FRAMES, 2)
    image = frame.read()[1]
    expected = index.search((image, box), k=5, exclude_source=video, exclude_frame=2)
    assert [row for row, _, _ in shown] == [m.row for m in expected]
    np.testing.assert_allclose([s for _, s, _ in shown],
                               [m.similarity for m in expected], atol=1e-5)
    assert all(not (m.source == video and m.frame == 2) for m in expected)
    assert shown[0][2].startswith('rank 1, similarity')


def test_upload_an_image_and_search(gallery, server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    browser.get(server + '/')
    query = tmp_path / 'query.png'
    image = cv2.imread(str(gallery['frames'][5]))  # a frame only the video holds
    cv2.imwrite(str(query), image)
    browser.find_element(By.ID, 'upload').send_keys(str(query))
    canvas = browser.find_element(By.ID, 'canvas')
    wait(browser, lambda d: canvas.get_attribute('data-loaded') == '1')
    box = drag_box(browser, [60, 20, 90, 80], image.shape[1])
    shown = search_and_read(browser, 4)
    expected = gallery['index'].search((image, box), k=4)
    assert [row for row, _, _ in shown] == [m.row for m in expected]
    # a bad search is reported on the page, not as a broken page
    browser.execute_script('state.box = [1, 2, 3];')
    browser.find_element(By.ID, 'search').click()
    wait(browser, lambda d: 'box' in d.find_element(By.ID, 'status').text)
    assert browser.find_element(By.ID, 'status').get_attribute('class') == 'error'
