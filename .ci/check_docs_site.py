# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the guides in the HTML site that .ci/docs-site built.

Usage: python .ci/check_docs_site.py DEST   (from the collection root; DEST as given to .ci/docs-site)

The guides are README.md, docs/*.md and docs/dev/*.md. Fails (exit 1, one line per problem) when:

- a guide has no page in DEST/html (README.html, docs/NAME.html, docs/dev/NAME.html), or its page does not carry
  the guide's title (its first ``# `` heading);
- the landing page DEST/html/index.html does not link to every guide's page (the navigation);
- a relative link or image of a guide's page (href, src) leads to a file that does not exist, or to an anchor
  (``#name``) that the target page does not have;
- DEST/warnings.log (sphinx-build's warnings) has a warning that is not about a plugin page
  (``rst/collections/``): a warning about a guide, the landing page, or the build as a whole. Warnings about the
  plugin pages (references into docs.ansible.com that cannot resolve offline) are counted, not fatal: the
  docs-lint gate checks the plugin documentation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import html
import os
import re
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

WARNING_START = re.compile(r'(WARNING|ERROR|CRITICAL|SEVERE):')


class PageParser(HTMLParser):
    """Collects a page's ids, links (href, src), <title> and <h1> texts."""

    def __init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.ids = set()
        self.links = []
        self.title = ''
        self.h1 = []
        self._in = None
        self._text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get('id'):
            self.ids.add(attrs['id'])
        if tag == 'a' and attrs.get('name'):
            self.ids.add(attrs['name'])
        for attr in ('href', 'src'):
            if attrs.get(attr) is not None and tag in ('a', 'img', 'link', 'script', 'source', 'object', 'embed'):
                self.links.append((tag, attr, attrs[attr]))
        if tag in ('title', 'h1'):
            self._in = tag
            self._text = []

    def handle_endtag(self, tag):
        if tag == self._in:
            text = normalize(''.join(self._text))
            if tag == 'title':
                self.title = text
            else:
                self.h1.append(text)
            self._in = None

    def handle_data(self, data):
        if self._in:
            self._text.append(data)


def normalize(text):
    """Whitespace collapsed, the permalink signs (pilcrow, the theme's icon) and Markdown's inline marks dropped."""
    text = html.unescape(text).replace('\u00b6', '').replace('\uf0c1', '').replace('`', '').replace('*', '')
    return ' '.join(text.split())


def parse(path):
    parser = PageParser()
    with open(path, encoding='utf-8') as f:
        parser.feed(f.read())
    parser.close()
    return parser


def markdown_title(path):
    """The first ATX level-1 heading outside code fences, or None."""
    fence = None
    with open(path, encoding='utf-8') as f:
        for line in f:
            stripped = line.strip()
            if stripped.startswith('```') or stripped.startswith('~~~'):
                marker = stripped[:3]
                if fence is None:
                    fence = marker
                elif marker == fence:
                    fence = None
                continue
            if fence is None and re.match(r'# \S', stripped):
                return normalize(re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', stripped[2:]))
    return None


def guides(root):
    names = ['README.md'] if os.path.isfile(os.path.join(root, 'README.md')) else []
    names += sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, 'docs', '*.md')))
    names += sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, 'docs', 'dev', '*.md')))
    return [n.replace(os.sep, '/') for n in names]


def warnings(log):
    """sphinx-build's warnings, one entry per warning (continuation lines joined)."""
    entries = []
    if not os.path.exists(log):
        return entries
    with open(log, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if WARNING_START.search(line) or not entries:
                entries.append(line)
            elif line.strip():
                entries[-1] += '\n' + line
    return [e for e in entries if e.strip()]


def check_links(html_dir, page, parser, cache, problems):
    page_dir = os.path.dirname(page)
    for tag, attr, value in parser.links:
        parts = urlsplit(value)
        if parts.scheme or parts.netloc or parts.path.startswith('/') or value in ('', '#'):
            continue  # external, absolute (the theme's home link), or empty
        if parts.path:
            target = os.path.normpath(os.path.join(page_dir, unquote(parts.path)))
        else:
            target = page
        rel = os.path.relpath(page, html_dir)
        if not os.path.isfile(target):
            problems.append('%s: <%s %s="%s">: %s does not exist in the site'
                            % (rel, tag, attr, value, os.path.relpath(target, html_dir)))
            continue
        if parts.fragment and target.endswith('.html'):
            if target not in cache:
                cache[target] = parse(target)
            if unquote(parts.fragment) not in cache[target].ids:
                problems.append('%s: <%s %s="%s">: %s has no anchor "%s"'
                                % (rel, tag, attr, value, os.path.relpath(target, html_dir), parts.fragment))


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    root = os.getcwd()
    dest = os.path.abspath(argv[1])
    html_dir = os.path.join(dest, 'html')
    problems = []
    if not os.path.isfile(os.path.join(html_dir, 'index.html')):
        print('ERROR: %s/index.html does not exist: build the site with .ci/docs-site first' % html_dir)
        return 1
    index = parse(os.path.join(html_dir, 'index.html'))
    index_targets = set()
    for tag, dummy, value in index.links:
        if tag == 'a':
            index_targets.add(os.path.normpath(unquote(urlsplit(value).path)))
    cache = {}
    names = guides(root)
    for name in names:
        page = os.path.join(html_dir, name[:-len('.md')] + '.html')
        rel = os.path.relpath(page, html_dir)
        title = markdown_title(os.path.join(root, name))
        if not os.path.isfile(page):
            problems.append('%s: no page %s in the site' % (name, rel))
            continue
        if page not in cache:
            cache[page] = parse(page)
        parser = cache[page]
        if title is None:
            problems.append('%s: no "# title" line' % name)
        elif title not in parser.h1 and not parser.title.startswith(title):
            problems.append('%s: page %s does not carry the title "%s" (title "%s", h1 %s)'
                            % (name, rel, title, parser.title, parser.h1))
        if os.path.normpath(rel) not in index_targets:
            problems.append('%s: the landing page index.html has no link to %s' % (name, rel))
        check_links(html_dir, page, parser, cache, problems)

    plugin_warnings = 0
    for entry in warnings(os.path.join(dest, 'warnings.log')):
        if '/rst/collections/' in entry.split('\n', 1)[0]:
            plugin_warnings += 1
        else:
            problems.append('sphinx-build: ' + entry)

    seen = set()
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            print('ERROR: ' + problem)
    print('docs-site: %d guides checked (%s); %d problems; %d warnings about plugin pages (not fatal, see docs-lint)'
          % (len(names), ', '.join(names), len(seen), plugin_warnings))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
