// The line area of LogView (LogLines in log_lines.py). Lines arrive as HTML the server escaped (log_render.py);
// this file never builds markup from log text. Batches are queued and inserted at most every RENDER_MS, in an
// animation frame, as chunk elements: with `content-visibility: auto` on chunks the browser lays out only the chunks
// on screen (one element per line made every insert a layout of all maxLines lines: 5-10x slower). The lines live in
// a shadow root with only our stylesheet, so the page's global rules are not matched against thousands of lines on
// every insert. The DOM keeps maxLines lines. acknowledge() answers once everything received is on screen (or
// dropped): the server counts these answers and stops sending to a browser that falls behind.
const RENDER_MS = 50;
const CHUNK_LINES = 200; // small enough that only the one or two chunks on screen are laid out, whatever the batch
const LINE_HEIGHT_EM = 1.45;

export default {
  template: `
    <div class="berth-log-box">
      <div ref="lines" class="berth-log" :class="{ 'hide-ts': !timestamps }" role="log" tabindex="0"
        :aria-label="label" @scroll.passive="onScroll"></div>
      <button v-if="!autoscroll" type="button" class="berth-log-latest" @click="toEnd">Jump to latest lines</button>
    </div>`,
  props: {
    maxLines: { type: Number, default: 5000 },
    label: { type: String, default: "Log lines" },
    timestamps: { type: Boolean, default: true },
    lineCss: { type: String, default: "" },
  },
  data() {
    return { autoscroll: true };
  },
  mounted() {
    const root = this.$refs.lines.attachShadow({ mode: "open" });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(this.lineCss);
    root.adoptedStyleSheets = [sheet];
    this.body = document.createElement("div");
    root.appendChild(this.body);
    this.queue = [];
    this.queued = 0;
    this.received = 0;
    this.shown = 0;
    this.scheduled = false;
    this.timer = null;
    this.frame = null;
    this.renderedAt = 0;
    this.renderGap = RENDER_MS;
    this.shownNow = true;
    this.waiting = [];
    this.$emit("ready");
  },
  // in a kept-alive tab panel the element is hidden and shown again rather than unmounted (activated also runs
  // right after mounted: the flag keeps that from counting twice)
  activated() {
    if (this.shownNow) return;
    this.shownNow = true;
    this.$emit("ready");
  },
  deactivated() {
    this.shownNow = false;
    this.$emit("gone");
  },
  beforeUnmount() {
    clearTimeout(this.timer);
    cancelAnimationFrame(this.frame);
    this.answer();
    if (this.shownNow) this.$emit("gone");
  },
  methods: {
    append(lines) {
      this.received += lines.length;
      this.$refs.lines.berthReceived = this.received; // for benches and tests; a property, not a DOM change
      this.queue.push(lines);
      this.queued += lines.length;
      // a hidden tab gets no animation frames: keep only what the view could show anyway
      while (this.queue.length > 1 && this.queued - this.queue[0].length >= this.maxLines) {
        this.queued -= this.queue.shift().length;
      }
      if (this.scheduled) return;
      this.scheduled = true;
      const wait = Math.max(0, this.renderedAt + this.renderGap - performance.now());
      this.timer = setTimeout(() => (this.frame = requestAnimationFrame(() => this.render())), wait);
    },
    replace(lines) {
      this.queue = [];
      this.queued = 0;
      this.shown = 0;
      this.body.replaceChildren();
      this.append(lines);
    },
    acknowledge() {
      if (!this.scheduled) return true;
      return new Promise((resolve) => this.waiting.push(resolve));
    },
    answer() {
      const waiting = this.waiting;
      this.waiting = [];
      for (const resolve of waiting) resolve(true);
    },
    render() {
      this.scheduled = false;
      const started = performance.now();
      const box = this.body;
      if (!this.queued) return this.answer();
      const lines = this.queue.flat();
      this.queue = [];
      this.queued = 0;
      const chunks = [];
      for (let start = 0; start < lines.length; start += CHUNK_LINES) {
        const part = lines.slice(start, start + CHUNK_LINES);
        const height = `contain-intrinsic-size: auto ${(part.length * LINE_HEIGHT_EM).toFixed(2)}em`;
        chunks.push(`<div class="berth-chunk" style="${height}">${part.join("")}</div>`);
      }
      box.insertAdjacentHTML("beforeend", chunks.join(""));
      this.shown += lines.length;
      while (box.firstElementChild && this.shown - box.firstElementChild.childElementCount >= this.maxLines) {
        this.shown -= box.firstElementChild.childElementCount;
        box.firstElementChild.remove();
      }
      const extra = this.shown - this.maxLines;
      if (extra > 0) {
        const first = box.firstElementChild;
        const range = document.createRange();
        range.setStartBefore(first.firstElementChild);
        range.setEndBefore(first.children[extra]);
        range.deleteContents();
        this.shown -= extra;
      }
      this.answer();
      const scroller = this.$refs.lines;
      scroller.berthShown = this.shown;
      if (this.autoscroll) this.scrollToEnd(scroller);
      // a slow machine renders less often (and so drops more queued lines) rather than freezing the page
      this.renderedAt = performance.now();
      this.renderGap = Math.max(RENDER_MS, 4 * (this.renderedAt - started));
    },
    scrollToEnd(box) {
      box.scrollTop = box.scrollHeight;
    },
    onScroll() {
      // scroll events run before the next frame's insert, so after our own scroll to the end this still says "at end"
      const box = this.$refs.lines;
      const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 8;
      if (atEnd !== this.autoscroll) this.autoscroll = atEnd;
    },
    toEnd() {
      this.autoscroll = true;
      const box = this.$refs.lines;
      this.scrollToEnd(box);
      box.focus();
    },
  },
};
