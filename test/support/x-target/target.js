// The X test program's behaviour (see target.html); driven by test/support/x-display.ts through
// window.xTarget. Pointer events are recorded at their page coordinates, which the harness has
// checked are X screen coordinates. Workloads run from inside the page, not through X input, so
// a benchmark's load does not depend on the input path it measures.
'use strict';
(() => {
  const pointerEvents = [];
  const keys = [];
  const input = document.getElementById('text-input');
  const regions = document.getElementById('regions');
  const marker = document.getElementById('marker');
  const editor = document.getElementById('editor');
  const longPage = document.getElementById('long-page');
  let markerLayout = null;
  let markerValue = null;

  // Capture phase on window: recorded even if something on the page stops the event.
  for (const type of ['pointerdown', 'pointerup', 'click', 'auxclick', 'wheel']) {
    window.addEventListener(
      type,
      (event) => {
        const record = { type, x: event.clientX, y: event.clientY, button: event.button };
        if (type === 'wheel') Object.assign(record, { deltaX: event.deltaX, deltaY: event.deltaY });
        pointerEvents.push(record);
        if (type === 'pointerdown' && markerLayout?.advanceOnPointerDown) show(((markerValue ?? 0) + 1) % 2 ** markerLayout.bits);
      },
      { capture: true, passive: true },
    );
  }
  window.addEventListener('keydown', (event) => keys.push({ key: event.key, code: event.code }), { capture: true });
  // Middle clicks paste and right clicks open a menu: neither is what a test asked for.
  window.addEventListener('contextmenu', (event) => event.preventDefault());
  window.addEventListener('mousedown', (event) => { if (event.button === 1) event.preventDefault(); });

  const afterNextPaint = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));

  const box = (x, y, width, height, color) => {
    const element = document.createElement('div');
    Object.assign(element.style, { left: `${x}px`, top: `${y}px`, width: `${width}px`, height: `${height}px`, background: color });
    return element;
  };

  /** The marker: a start block (black), `bits` blocks for n (black = 1, most significant first), an end block (white). */
  const show = (n) => {
    const { x, y, block, bits } = markerLayout;
    const blocks = [box(x, y, block, block, '#000000')];
    for (let bit = bits - 1, column = 1; bit >= 0; bit--, column++) {
      blocks.push(box(x + column * block, y, block, block, (n >> bit) & 1 ? '#000000' : '#ffffff'));
    }
    blocks.push(box(x + (bits + 1) * block, y, block, block, '#ffffff'));
    marker.replaceChildren(...blocks);
    markerValue = n;
  };

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  window.xTarget = {
    placeTextInput({ x, y, width, height }) {
      Object.assign(input.style, { left: `${x}px`, top: `${y}px`, width: `${width}px`, height: `${height}px` });
    },
    setMarkerLayout(layout) {
      markerLayout = layout;
    },
    async drawRegions(list) {
      regions.replaceChildren(...list.map(({ x, y, width, height, color }) => box(x, y, width, height, color)));
      await afterNextPaint();
    },
    async setMarker(n) {
      show(n);
      await afterNextPaint();
    },
    pointerEvents: () => pointerEvents.slice(),
    keys: () => keys.slice(),
    text: () => input.value,
    focusTextInput() {
      input.focus();
      return document.activeElement === input;
    },
    forget() {
      pointerEvents.length = 0;
      keys.length = 0;
      input.value = '';
    },
    /** Types `text` into a full-screen editor, one character at a time, keeping the caret's line in view. */
    async typeIntoEditor(text, charactersPerSecond) {
      longPage.style.display = 'none';
      editor.style.display = 'block';
      editor.textContent = '';
      for (const character of text) {
        editor.textContent += character;
        editor.scrollTop = editor.scrollHeight;
        await sleep(1000 / charactersPerSecond);
      }
    },
    /** Scrolls a long page of text for `durationMs`, at `pixelsPerSecond`, wrapping at its end. */
    async scrollLongPage(durationMs, pixelsPerSecond) {
      editor.style.display = 'none';
      if (!longPage.childElementCount) {
        const words = ['remote', 'assistance', 'relay', 'desktop', 'session', 'encrypted', 'technician', 'frame', 'keyboard', 'pointer'];
        const lines = Array.from({ length: 600 }, (_, line) => {
          const text = Array.from({ length: 6 + (line % 7) }, (_, word) => words[(line * 3 + word) % words.length]).join(' ');
          return `${String(line + 1).padStart(4, '0')}  ${text}`;
        });
        longPage.textContent = lines.join('\n');
      }
      longPage.style.display = 'block';
      const start = performance.now();
      const from = longPage.scrollTop;
      const range = longPage.scrollHeight - longPage.clientHeight;
      await new Promise((resolve) => {
        const step = (now) => {
          const elapsed = now - start;
          longPage.scrollTop = (from + (elapsed / 1000) * pixelsPerSecond) % range;
          if (elapsed < durationMs) requestAnimationFrame(step);
          else resolve();
        };
        requestAnimationFrame(step);
      });
    },
    /** Hides the workloads (the regions and marker stay). */
    idle() {
      editor.style.display = 'none';
      longPage.style.display = 'none';
    },
  };
})();
