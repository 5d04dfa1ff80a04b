"""The few lines of JavaScript the web chat runs in the page (installed once, on page load).

* ``[n]`` links (``#qa-src-<reply>-<n>``, :func:`qa.render.cite_link`) open the reply's collapsed
  sources and scroll to source n;
* "Open document" links (``#qa-doc=<doc id>:<start>:<end>``, :func:`qa.render.doc_link`) hand the
  request to the hidden ``#qa-doc-open`` button, whose event fills the document view (its ``js``
  is :data:`DOC_REQUEST`);
* the chat follows new messages: when one arrives it scrolls to the newest, even if the user had
  scrolled up to read a source.

Nothing here reads or writes document text: the page only ever shows what the server rendered.
"""

INSTALL = r"""
() => {
  if (window.qaInstalled) return [];
  window.qaInstalled = true;
  const chat = () => document.querySelector('#qa-chat');
  const scroller = () => { const c = chat(); return c && (c.querySelector('.bubble-wrap') || c); };
  const openSource = (link, id) => {
    const n = id.split('-').pop();
    const groups = [...chat().querySelectorAll('.thought-group')];
    const group = groups.find(g => link.compareDocumentPosition(g) & Node.DOCUMENT_POSITION_FOLLOWING);
    const find = () => document.getElementById(id)
      || (group && [...group.querySelectorAll('strong')].find(s => s.textContent.startsWith('[' + n + ']')));
    if (!find() && group) {
      const content = group.querySelector('.content');
      if (!content || content.offsetParent === null) { const t = group.querySelector('.title'); if (t) t.click(); }
    }
    let tries = 0;
    const show = () => {
      const el = find();
      if (!el) { if (tries++ < 30) setTimeout(show, 100); return; }
      const target = el.nextElementSibling && el.tagName === 'A' ? el.nextElementSibling : el;
      target.scrollIntoView({block: 'center'});
      target.classList.add('qa-flash');
      setTimeout(() => target.classList.remove('qa-flash'), 2000);
    };
    show();
  };
  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a[href^="#qa-src-"], a[href^="#qa-doc="]');
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    const href = a.getAttribute('href');
    if (href.startsWith('#qa-doc=')) {
      window.qaDocRequest = href.slice('#qa-doc='.length);
      const b = document.querySelector('#qa-doc-open');
      if (b) b.click();
    } else {
      openSource(a, href.slice(1));
    }
  }, true);
  let seen = -1;
  setInterval(() => {
    const c = chat();
    if (!c) return;
    const n = c.querySelectorAll('[data-testid="user"], [data-testid="bot"]').length;
    if (n > seen && seen >= 0) { const s = scroller(); s.scrollTop = s.scrollHeight; }
    seen = n;
  }, 300);
  return [];
}
"""

#: the hidden "open document" button's input: the request the clicked link left
DOC_REQUEST = "(x) => window.qaDocRequest || ''"

#: after the document view is filled: the cited sentence, scrolled into view
SHOW_CITED = """() => { setTimeout(() => {
  const box = document.querySelector('#qa-docview'); const m = box && box.querySelector('#qa-doc-cited');
  if (!m) return;
  box.scrollTop += m.getBoundingClientRect().top - box.getBoundingClientRect().top - box.clientHeight / 3;
  const r = box.getBoundingClientRect();
  if (r.top < 0 || r.bottom > window.innerHeight) window.scrollBy(0, r.top - 80);
}, 50); return []; }"""


#: before the page's conversation is restored: this tab's conversation, kept in ``sessionStorage``
#: (one per tab, kept across reloads); the tabs of a browser share everything else
TAB_CHAT = "(store, tab) => { let c = ''; try { c = sessionStorage.getItem('qa-tab-chat') || ''; } catch (e) {} return [store, c]; }"
#: after the page's conversation changed: remember it for this tab
KEEP_TAB_CHAT = "(store) => { try { sessionStorage.setItem('qa-tab-chat', (store && store.current) || ''); } catch (e) {} return []; }"
