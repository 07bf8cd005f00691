// Timeline filters without a page load. Each filter link is also a real page (the timeline filtered at
// build time), so without JavaScript the same links work; here they filter the list in place.

const filters = document.querySelector("[data-filters]");
const status = document.querySelector("[data-filter-status]");
const items = [...document.querySelectorAll(".timeline-item")];
const links = filters ? [...filters.querySelectorAll("a[data-filter]")] : [];
// The overview chart was drawn at build time for this page's own events: with another filter applied
// in place it would show events the list does not, so it is hidden until this page's filter is back.
const overview = document.querySelector(".overview");

function apply(link) {
  const [kind, value] = (link.dataset.filter || ":").split(":");
  let shown = 0;
  for (const item of items) {
    const visible = !kind || (item.dataset[kind] || "").split(" ").includes(value);
    item.hidden = !visible;
    if (visible) shown += 1;
  }
  // A month or a year with nothing left to show disappears with its heading.
  for (const group of [...document.querySelectorAll("[data-group]")].reverse()) {
    group.hidden = !group.querySelector(".timeline-item:not([hidden])");
  }
  if (overview) overview.hidden = link !== own;
  for (const other of links) {
    if (other === link) other.setAttribute("aria-current", "page");
    else other.removeAttribute("aria-current");
  }
  status.textContent = kind
    ? status.dataset.template
        .replace("{count}", shown)
        .replace("{total}", items.length)
        .replace("{label}", link.firstChild.textContent.trim())
    : "";
}

function linkFor(pathname) {
  return links.find((link) => new URL(link.href).pathname === pathname) || links.find((link) => !link.dataset.filter);
}

const own = linkFor(location.pathname);

if (filters && status) {
  filters.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-filter]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    apply(link);
    history.pushState({ filter: link.dataset.filter }, "", link.href);
  });
  window.addEventListener("popstate", () => apply(linkFor(location.pathname)));
}
