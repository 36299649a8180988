// Starts GraphiQL on the gateway's own page. Written for credgate (not vendored):
// its settings come from the page's JSON block, so the page needs no inline script.
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("graphiql-settings").textContent);
  var address = new URL(window.location.href);

  // GraphiQL keeps its tabs, headers and history in the storage it is given.
  // A token typed into the headers editor must not outlive the tab, so that
  // storage is this page's memory; the address carries the query instead, and a
  // reload shows what was being edited.
  var memory = new Map();
  var storage = {
    getItem: function (key) { return memory.has(key) ? memory.get(key) : null; },
    setItem: function (key, value) { memory.set(key, String(value)); },
    removeItem: function (key) { memory.delete(key); },
    clear: function () { memory.clear(); },
    key: function (index) { return Array.from(memory.keys())[index] || null; },
    get length() { return memory.size; }
  };

  function remember(name) {
    return function (value) {
      if (value) {
        address.searchParams.set(name, value);
      } else {
        address.searchParams.delete(name);
      }
      window.history.replaceState(null, "", address.toString());
    };
  }

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: settings.url }),
      storage: storage,
      shouldPersistHeaders: false,
      query: address.searchParams.get("query") || settings.query,
      variables: address.searchParams.get("variables") || undefined,
      headers: settings.headers || undefined,
      defaultEditorToolsVisibility: settings.headers ? "headers" : false,
      onEditQuery: remember("query"),
      onEditVariables: remember("variables")
    })
  );
})();
