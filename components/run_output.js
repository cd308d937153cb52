// The output area of a sandbox run (RunOutputView in run_output.py). Output arrives as [stream, text] pairs of
// plain text; it only ever becomes text nodes (textContent), never markup. stderr is marked by colour and by a
// screen-reader cue. The area keeps the last maxChars characters; the server says when earlier ones were cut.
export default {
  template: `
    <pre ref="area" class="berth-run-output" role="log" tabindex="0" :aria-label="label"
      @scroll.passive="onScroll"></pre>`,
  props: {
    label: { type: String, default: "Output" },
    maxChars: { type: Number, default: 262144 },
    initial: { type: Array, default: () => [] },
  },
  mounted() {
    this.chars = 0;
    this.follow = true;
    this.append(this.initial);
  },
  methods: {
    onScroll() {
      const area = this.$refs.area;
      this.follow = area.scrollTop + area.clientHeight >= area.scrollHeight - 8;
    },
    replace(segments) {
      this.$refs.area.textContent = "";
      this.chars = 0;
      this.follow = true;
      this.append(segments);
    },
    append(segments) {
      const area = this.$refs.area;
      if (!area) return;
      for (const [stream, text] of segments) {
        const last = area.lastChild;
        if (last && last.dataset.stream === stream) {
          last.textContent += text;
        } else {
          const span = document.createElement("span");
          span.dataset.stream = stream;
          if (stream === "stderr") span.className = "berth-stderr";
          span.textContent = text;
          area.appendChild(span);
        }
        this.chars += text.length;
      }
      while (this.chars > this.maxChars && area.firstChild) {
        const first = area.firstChild;
        const excess = this.chars - this.maxChars;
        if (first.textContent.length > excess) {
          first.textContent = first.textContent.slice(excess);
          this.chars -= excess;
        } else {
          this.chars -= first.textContent.length;
          area.removeChild(first);
        }
      }
      if (this.follow) area.scrollTop = area.scrollHeight;
    },
  },
};
