// The dashboard's live part (api/dashboard.c renders the page without it):
// every 2 s the sandboxes and their stats from the API, same origin, the
// session cookie; actions as POSTs carrying the CSRF token in a header.
'use strict';
(function () {
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : null;
  const tbody = document.querySelector('#sandboxes tbody');
  let selected = null;

  function human(b) {
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (b >= 1024 && i < 4) { b /= 1024; i++; }
    return i ? b.toFixed(1) + u[i] : Math.round(b) + u[i];
  }
  function dur(d) {
    if (d < 60) return d + 's';
    if (d < 3600) return Math.floor(d / 60) + 'm';
    if (d < 86400) return Math.floor(d / 3600) + 'h';
    return Math.floor(d / 86400) + 'd';
  }
  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  async function api(method, path) {
    const headers = {};
    if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
    const r = await fetch(path, { method, headers, credentials: 'same-origin' });
    const type = r.headers.get('Content-Type') || '';
    const body = type.startsWith('application/json') ? await r.json() : await r.text();
    if (!r.ok) throw new Error(body && body.message ? body.message : 'HTTP ' + r.status);
    return body;
  }
  function button(tr, id, act, label) {
    const b = document.createElement('button');
    b.textContent = label;
    b.className = act;
    b.dataset.act = act;
    b.addEventListener('click', async (ev) => {
      ev.stopPropagation();
      b.disabled = true;
      try {
        if (act === 'stop') await api('POST', '/v1/sandboxes/' + id + '/stop?t=5');
        else if (act === 'kill') await api('POST', '/v1/sandboxes/' + id + '/kill');
        else await api('DELETE', '/v1/sandboxes/' + id + '?force=1');
      } catch (e) { alert(e.message); }
      refresh();
    });
    tr.lastChild.appendChild(b);
  }
  async function showLog(id, name) {
    selected = id;
    document.getElementById('log').hidden = false;
    document.getElementById('log-name').textContent = name;
    let text = '';
    try {
      const body = await api('GET', '/v1/sandboxes/' + id + '/logs?tail=100');
      for (const line of String(body).split('\n')) {
        if (!line) continue;
        try {
          const r = JSON.parse(line);
          // a record, or the command line's note (files rotated away) as a stderr frame
          if (typeof r.line === 'string') text += r.line + '\n';
          else if (typeof r.data === 'string') text += r.data.replace(/\n?$/, '\n');
        } catch (e) { /* not a record */ }
      }
    } catch (e) { text = e.message; }
    document.getElementById('log-text').textContent = text;
  }
  async function refresh() {
    let list, stats, host;
    try {
      [list, stats, host] = await Promise.all([
        api('GET', '/v1/sandboxes?all=1'), api('GET', '/v1/stats?all=1&interval=300'), api('GET', '/v1/host')]);
    } catch (e) { return; }
    const byId = {};
    for (const s of stats) byId[s.id] = s;
    const now = Date.now() / 1000;
    tbody.textContent = '';
    for (const s of list) {
      const st = byId[s.id] || {};
      const tr = document.createElement('tr');
      tr.dataset.id = s.id;
      if (s.id === selected) tr.className = 'selected';
      cell(tr, s.id.slice(0, 12), 'id');
      cell(tr, s.name, 'name');
      cell(tr, s.image);
      cell(tr, s.status, 'state ' + (s.running ? 'running' : 'ended'));
      cell(tr, dur(Math.max(0, Math.floor(now - s.created))));
      cell(tr, st.ttl ? dur(st.ttl) : '-');
      cell(tr, st.cpu_percent != null ? st.cpu_percent.toFixed(1) + '%' : '', 'cpu');
      cell(tr, st.memory_pss != null ? human(st.memory_pss) : '', 'mem');
      cell(tr, st.block_read != null ? human(st.block_read + st.net_rx) + ' / ' + human(st.block_write + st.net_tx) : '', 'io');
      cell(tr, '', 'actions');
      if (s.running) { button(tr, s.id, 'stop', 'Stop'); button(tr, s.id, 'kill', 'Kill'); }
      button(tr, s.id, 'rm', 'Remove');
      tr.addEventListener('click', () => showLog(s.id, s.name));
      tbody.appendChild(tr);
    }
    const empty = document.getElementById('empty');
    if (empty) empty.hidden = list.length > 0;
    document.getElementById('host').textContent =
      host.running + ' running of ' + host.sandboxes + ' · memory ' + human(host.sandboxes_memory_pss) +
      ' · host ' + human(host.memory_available) + ' free of ' + human(host.memory_total) +
      ' · load ' + host.load1.toFixed(2) + ' on ' + host.cpus + ' CPUs';
    document.body.dataset.refreshed = String(Date.now());
  }
  refresh();
  setInterval(refresh, 2000);
})();
