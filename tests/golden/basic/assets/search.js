// The search page: Pagefind's API (its index for this page's language), results announced to screen readers.
// Without JavaScript the page still offers the sections; this script shows the form only once it can work.

const form = document.querySelector("[data-search]");

function sentence(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => values[key]);
}

// Pagefind marks matches with <mark> in an otherwise escaped excerpt: keep the text and the marks, nothing else.
function excerptNodes(excerpt) {
  const template = document.createElement("template");
  template.innerHTML = excerpt;
  const nodes = [];
  for (const node of template.content.childNodes) {
    if (node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      nodes.push(mark);
    } else {
      nodes.push(document.createTextNode(node.textContent));
    }
  }
  return nodes;
}

function resultItem(data) {
  const item = document.createElement("li");
  const heading = document.createElement("h2");
  const link = document.createElement("a");
  link.href = data.url;
  link.textContent = data.meta.title || data.url;
  heading.append(link);
  const excerpt = document.createElement("p");
  excerpt.append(...excerptNodes(data.excerpt));
  item.append(heading, excerpt);
  return item;
}

async function start() {
  const input = form.querySelector("input[type=search]");
  const status = document.getElementById("search-status");
  const list = document.getElementById("search-results");
  // A large site's index comes in several bundles: the first is loaded, the others merged into it,
  // all at once (one after the other, each bundle's two requests waited for the network in turn:
  // 64 bundles took 7 s over a link with 40 ms of latency). They keep the order they are asked in.
  const [first, ...others] = form.dataset.bundles.split(" ").filter(Boolean);
  if (!first) return; // nothing to search: the page keeps its links to browse instead
  const pagefind = await import(first + "pagefind.js");
  await pagefind.options({ baseUrl: form.dataset.base });
  await Promise.all(others.map((bundle) => pagefind.mergeIndex(bundle, { baseUrl: form.dataset.base })));
  await pagefind.init();

  async function run(query) {
    const trimmed = query.trim();
    if (!trimmed) {
      list.replaceChildren();
      status.textContent = "";
      return;
    }
    status.textContent = form.dataset.loading;
    const search = await pagefind.debouncedSearch(trimmed, {}, 120);
    if (search === null) return; // a newer query replaced this one
    const results = await Promise.all(search.results.slice(0, 30).map((result) => result.data()));
    list.replaceChildren(...results.map(resultItem));
    const count = search.results.length;
    const template = count === 0 ? form.dataset.none : count === 1 ? form.dataset.one : form.dataset.many;
    status.textContent = sentence(template, { count, query: trimmed });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const url = new URL(location.href);
    url.searchParams.set("q", input.value.trim());
    history.replaceState(null, "", url);
    run(input.value);
  });
  input.addEventListener("input", () => run(input.value));

  form.hidden = false;
  document.querySelector("[data-search-fallback]").hidden = true;
  const initial = new URLSearchParams(location.search).get("q");
  if (initial) {
    input.value = initial;
    run(initial);
  }
}

if (form) start();
