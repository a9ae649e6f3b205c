/* Layout check of one page, run by tests/browser/test_every_page.py through page.evaluate.
 *
 * Returns {scrollWidth, clientWidth, boxes, overlaps}:
 * - scrollWidth / clientWidth of the document (a horizontal page scroll when the first is
 *   larger);
 * - overlaps: pairs of visible text boxes that cover each other. The boxes are the client
 *   rects of every text node (Range.getClientRects: one per line), minus zero-size rects,
 *   text of invisible elements, text inside SVG (ECharts lays out its own chart labels) and
 *   the parts clipped away by a scrolling or clipping ancestor (a .table-wrap scrolled
 *   sideways: only its visible part counts). Two boxes overlap when they share more than
 *   2 px across and more than 40 % of the lower box's height (lines of one paragraph may touch
 *   by a pixel or two of their font's ascent and descent).
 * The pairs are found with a sweep over the boxes sorted by their top edge, so a table of a
 * few thousand cells stays fast.
 */
() => {
  "use strict";
  const root = document.documentElement;
  const clipCache = new Map();

  function clipOf(element) {
    // the rectangle the element's ancestors let show (null: no clipping ancestor)
    if (!element || element === document.body || element === root) { return null; }
    if (clipCache.has(element)) { return clipCache.get(element); }
    let clip = clipOf(element.parentElement);
    const style = getComputedStyle(element);
    if (style.overflowX !== "visible" || style.overflowY !== "visible") {
      const r = element.getBoundingClientRect();
      const own = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      clip = clip ? intersect(clip, own) : own;
    }
    clipCache.set(element, clip);
    return clip;
  }

  function intersect(a, b) {
    return {
      left: Math.max(a.left, b.left),
      top: Math.max(a.top, b.top),
      right: Math.min(a.right, b.right),
      bottom: Math.min(a.bottom, b.bottom),
    };
  }

  const boxes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) { continue; }
    const parent = node.parentElement;
    if (!parent || parent.closest("svg, script, style, template, [hidden]")) { continue; }
    if (parent.checkVisibility && !parent.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) { continue; }
    const clip = clipOf(parent);
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      let box = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      if (clip) { box = intersect(box, clip); }
      if (box.right - box.left < 1 || box.bottom - box.top < 1) { continue; }
      box.text = node.textContent.trim().slice(0, 40);
      box.where = parent.tagName.toLowerCase() + (parent.className ? "." + String(parent.className).split(" ").join(".") : "");
      boxes.push(box);
    }
  }
  range.detach();

  boxes.sort((a, b) => a.top - b.top);
  const overlaps = [];
  for (let i = 0; i < boxes.length && overlaps.length < 20; i++) {
    const a = boxes[i];
    for (let j = i + 1; j < boxes.length && boxes[j].top < a.bottom; j++) {
      const b = boxes[j];
      const wide = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const high = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      const lower = Math.min(a.bottom - a.top, b.bottom - b.top);
      if (wide > 2 && high > 0.4 * lower) {
        overlaps.push({ a: a.text, aWhere: a.where, b: b.text, bWhere: b.where,
          at: [Math.round(b.left), Math.round(b.top)] });
      }
    }
  }
  return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, boxes: boxes.length, overlaps };
}
