#!/usr/bin/python3
"""The dashboard in a real browser (Debian's chromium, headless, through
chromedriver with python3-selenium): log in with the token, see the
sandboxes, see a new one appear live, stop one with its button, read a log
tail; then with JavaScript off: the page still lists them and its plain
forms still work. Screenshots go to ARTIFACTS. Prints "PASS desc" or
"FAIL desc" lines; tests/api/dashboard.sh counts them.
  dashboard.py URL TOKEN SANDBOX_BIN ARTIFACTS"""
import os
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

URL, TOKEN, SB, ART = sys.argv[1:5]
os.makedirs(ART, exist_ok=True)
failed = False


def check(ok, desc, detail=''):
    global failed
    print(('PASS ' if ok else 'FAIL ') + desc + ('' if ok or not detail else ' (%s)' % detail), flush=True)
    failed |= not ok


def wait(fn, secs=20):
    end = time.time() + secs
    while time.time() < end:
        try:
            if fn():
                return True
        except Exception:  # the page is being re-rendered
            pass
        time.sleep(0.2)
    return False


def browser(js=True):
    o = webdriver.ChromeOptions()
    o.binary_location = '/usr/bin/chromium'
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
              '--window-size=1400,800', '--no-first-run', '--disable-extensions'):
        o.add_argument(a)
    if not js:
        o.add_experimental_option('prefs', {'profile.managed_default_content_settings.javascript': 2})
    return webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=o)


def row_state(d, name):
    for tr in d.find_elements(By.CSS_SELECTOR, '#sandboxes tbody tr'):
        if tr.find_element(By.CSS_SELECTOR, 'td.name').text == name:
            return tr.find_element(By.CSS_SELECTOR, 'td.state').text
    return None


def detail(fn):
    """FN() for a failure's message: app.js may re-render the table while
    it reads (a stale element), which must not end the test."""
    try:
        return fn()
    except Exception as e:  # the page is being re-rendered
        return 'unreadable: %s' % type(e).__name__


def names(d):
    return sorted(e.text for e in d.find_elements(By.CSS_SELECTOR, '#sandboxes tbody td.name'))


def click_in_row(d, name, selector):
    """Click SELECTOR in NAME's row; app.js re-renders the table every 2 s,
    so an element found may be gone by the click: find it again."""
    def once():
        for tr in d.find_elements(By.CSS_SELECTOR, '#sandboxes tbody tr'):
            if tr.find_element(By.CSS_SELECTOR, 'td.name').text == name:
                tr.find_element(By.CSS_SELECTOR, selector).click()
                return True
        return False
    return wait(once, 10)


def cli_status(name):
    out = subprocess.run([SB, 'inspect', name], capture_output=True, text=True).stdout
    return out


def login(d):
    d.get(URL + '/')
    d.find_element(By.ID, 'token').send_keys(TOKEN)
    d.find_element(By.ID, 'login-button').click()


d = browser()
try:
    d.get(URL + '/')
    check(len(d.find_elements(By.ID, 'login')) == 1, 'the page asks for the token first')
    check(len(d.find_elements(By.CSS_SELECTOR, '#sandboxes')) == 0, '... and shows no sandbox before')
    d.find_element(By.ID, 'token').send_keys('not-the-token-at-all')
    d.find_element(By.ID, 'login-button').click()
    check(wait(lambda: d.find_element(By.ID, 'login-error').is_displayed()), 'a wrong token is refused')
    d.save_screenshot(os.path.join(ART, '1-login-refused.png'))
    login(d)
    check(wait(lambda: row_state(d, 'dash-1') == 'running' and row_state(d, 'dash-2') == 'running'),
          'logged in: both sandboxes listed as running')
    check(wait(lambda: d.find_element(By.TAG_NAME, 'body').get_attribute('data-refreshed')),
          'the live refresh ran (app.js)')
    check(wait(lambda: 'running of' in d.find_element(By.ID, 'host').text and 'load' in d.find_element(By.ID, 'host').text),
          'the host totals are shown', detail(lambda: d.find_element(By.ID, 'host').text))
    d.save_screenshot(os.path.join(ART, '2-two-sandboxes.png'))
    subprocess.run([SB, 'run', '-d', '--isolation', 'container', '--name', 'dash-3', '--ttl', '10m', 'busybox',
                    'sh', '-c', 'echo third says hi; sleep 1000'], check=True, capture_output=True)
    check(wait(lambda: row_state(d, 'dash-3') == 'running'), 'a sandbox started meanwhile appears without a reload')
    check(wait(lambda: any(tr.find_elements(By.XPATH, "td[normalize-space()='10m']")
                           for tr in d.find_elements(By.CSS_SELECTOR, '#sandboxes tbody tr')
                           if tr.find_element(By.CSS_SELECTOR, 'td.name').text == 'dash-3')), "its TTL is shown")
    d.save_screenshot(os.path.join(ART, '3-third-appeared.png'))
    # stop dash-1 with its button
    click_in_row(d, 'dash-1', 'button.stop')
    check(wait(lambda: (row_state(d, 'dash-1') or '').startswith('exited'), 30), 'Stop: the row shows it exited',
          detail(lambda: row_state(d, 'dash-1')))
    check('"running": false' in cli_status('dash-1'), '... and the command line agrees')
    check(wait(lambda: row_state(d, 'dash-2') == 'running', 5), '... and the other one still runs')
    d.save_screenshot(os.path.join(ART, '4-stopped-one.png'))
    click_in_row(d, 'dash-3', 'td.name')
    check(wait(lambda: 'third says hi' in d.find_element(By.ID, 'log-text').text), "a row's log tail")
    d.save_screenshot(os.path.join(ART, '5-log-tail.png'))
finally:
    d.quit()

# JavaScript off: the server-rendered page and its forms
d = browser(js=False)
try:
    login(d)
    # (the click submits the form; the page after the login may still be loading)
    check(wait(lambda: names(d) == ['dash-1', 'dash-2', 'dash-3'], 10),
          'JavaScript off: the page still lists the sandboxes', detail(lambda: names(d)))
    check(d.find_element(By.TAG_NAME, 'body').get_attribute('data-refreshed') is None, '... rendered by the server (no script ran)')
    d.save_screenshot(os.path.join(ART, '6-no-javascript.png'))
    click_in_row(d, 'dash-2', 'button.kill')
    check(wait(lambda: (row_state(d, 'dash-2') or '').startswith('exited') or
               (d.refresh() or False), 20), 'JavaScript off: the Kill form works (CSRF field included)',
          detail(lambda: row_state(d, 'dash-2')))
    d.save_screenshot(os.path.join(ART, '7-no-javascript-killed.png'))
finally:
    d.quit()
sys.exit(1 if failed else 0)
