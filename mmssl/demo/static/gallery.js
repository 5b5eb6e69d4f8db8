// The gallery search page: choose or upload a query image, drag a box, search.
'use strict';
const canvas = document.getElementById('canvas');
const context = canvas.getContext('2d');
const state = { image: null, query: null, box: null, drag: null, scale: 1 };

function setStatus(text, isError) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.className = isError ? 'error' : '';
}

function redraw() {
  if (!state.image) return;
  context.drawImage(state.image, 0, 0, canvas.width, canvas.height);
  const box = state.drag || state.box;
  if (box) {
    context.strokeStyle = '#ffbf00';
    context.lineWidth = 2;
    const s = state.scale;
    context.strokeRect(box[0] * s, box[1] * s, (box[2] - box[0]) * s, (box[3] - box[1]) * s);
  }
}

function showBox() {
  document.getElementById('box').textContent =
    state.box ? state.box.map((v) => v.toFixed(1)).join(' ') : 'none';
  document.getElementById('search').disabled = !(state.box && state.query);
}

function loadQuery(url, query) {
  const image = new Image();
  canvas.dataset.loaded = '0';
  image.onload = () => {
    state.image = image;
    state.query = query;
    state.box = null;
    state.scale = Math.min(1, 720 / image.naturalWidth) * Math.max(1, Math.floor(480 / image.naturalWidth));
    canvas.width = Math.round(image.naturalWidth * state.scale);
    canvas.height = Math.round(image.naturalHeight * state.scale);
    redraw();
    showBox();
    canvas.dataset.loaded = '1';
  };
  image.onerror = () => setStatus('could not load the query image', true);
  image.src = url;
}

function imagePoint(event) {
  const rect = canvas.getBoundingClientRect();  // includes the border
  const x = (event.clientX - rect.left - canvas.clientLeft) *
    (canvas.width / canvas.clientWidth) / state.scale;
  const y = (event.clientY - rect.top - canvas.clientTop) *
    (canvas.height / canvas.clientHeight) / state.scale;
  const w = canvas.width / state.scale;
  const h = canvas.height / state.scale;
  return [Math.min(Math.max(x, 0), w), Math.min(Math.max(y, 0), h)];
}

canvas.addEventListener('mousedown', (event) => {
  if (!state.image) return;
  const [x, y] = imagePoint(event);
  state.start = [x, y];
  state.drag = [x, y, x, y];
});
canvas.addEventListener('mousemove', (event) => {
  if (!state.drag) return;
  const [x, y] = imagePoint(event);
  const [x0, y0] = state.start;
  state.drag = [Math.min(x0, x), Math.min(y0, y), Math.max(x0, x), Math.max(y0, y)];
  redraw();
});
window.addEventListener('mouseup', () => {
  if (!state.drag) return;
  const box = state.drag;
  state.drag = null;
  // to 0.1 px, as shown: the box searched is the box on the page
  const rounded = box.map((v) => Math.round(v * 10) / 10);
  state.box = (rounded[2] - rounded[0] >= 2 && rounded[3] - rounded[1] >= 2) ? rounded : null;
  redraw();
  showBox();
});

document.getElementById('frames').addEventListener('change', (event) => {
  const option = event.target.selectedOptions[0];
  if (!option || !option.value) return;
  const [sourceId, frame] = option.value.split('/').map(Number);
  loadQuery(`/api/frame/${sourceId}/${frame}`, { source_id: sourceId, frame: frame });
});

document.getElementById('upload').addEventListener('change', async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  const form = new FormData();
  form.append('image', file);
  setStatus('uploading...');
  const response = await fetch('/api/upload', { method: 'POST', body: form });
  const body = await response.json();
  if (!response.ok) { setStatus(body.error, true); return; }
  setStatus('');
  loadQuery(`/api/upload/${body.token}`, { upload: body.token });
});

function describe(match) {
  const name = match.source.split('/').pop();
  if (match.kind !== 'video') return name;
  const time = match.time === null ? '' : ` (${match.time.toFixed(2)} s)`;
  return `${name} frame ${match.frame}${time}`;
}

document.getElementById('search').addEventListener('click', async () => {
  const results = document.getElementById('results');
  results.innerHTML = '';
  setStatus('searching...');
  const started = performance.now();
  const response = await fetch('/api/search', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      query: state.query, box: state.box,
      k: Number(document.getElementById('topk').value),
      exclude_query_frame: document.getElementById('exclude').checked,
    }),
  });
  const body = await response.json();
  if (!response.ok) { setStatus(body.error, true); return; }
  for (const match of body.matches) {
    const card = document.createElement('div');
    card.className = 'match';
    card.dataset.row = match.row;
    card.dataset.similarity = match.similarity;
    const frame = document.createElement('img');
    frame.className = 'frame';
    frame.src = match.frame_url;
    const crop = document.createElement('img');
    crop.className = 'crop';
    crop.src = match.crop_url;
    const caption = document.createElement('div');
    caption.className = 'caption';
    caption.textContent = `rank ${match.rank}, similarity ${match.similarity.toFixed(3)}: ${describe(match)}`;
    card.append(caption, frame, crop);
    results.append(card);
  }
  const ms = Math.round(performance.now() - started);
  setStatus(`${body.matches.length} matches (${ms} ms)`);
});

(async function start() {
  const info = await (await fetch('/api/info')).json();
  document.getElementById('info').textContent =
    `${info.detections} detections from ${info.sources} sources (${info.search} search).`;
  const { frames } = await (await fetch('/api/frames')).json();
  const select = document.getElementById('frames');
  for (const frame of frames) {
    const option = document.createElement('option');
    option.value = `${frame.source_id}/${frame.frame}`;
    option.textContent = frame.kind === 'video'
      ? `${frame.source.split('/').pop()} frame ${frame.frame}` : frame.source.split('/').pop();
    select.append(option);
  }
  select.dataset.loaded = '1';
})();
