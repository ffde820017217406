/**
 * The guide holds together: README.md stays a quick start, every link between the pages leads to
 * a file of the repo, no page refers to documents that are not in the repo, and the Chinese pages
 * exist for the English ones a game developer reads first.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import path from 'path';
import { ROOT } from '../../emulator/paths';

function pages(): string[] {
  const out = ['README.md', 'README.zh-CN.md'];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.md')) out.push(rel);
    }
  };
  walk('docs');
  return out;
}

test('README.md is a quick start (at most 12 KB), with the two commands first', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  expect(statSync(path.join(ROOT, 'README.md')).size).toBeLessThanOrEqual(12 * 1024);
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
  expect(firstBlock).toContain('npm ci && npm start');
  expect(firstBlock).toContain('npm ci && npm test');
  expect(readme.slice(0, 300)).toContain('README.zh-CN.md');
});

test.each(pages())('%s: every relative link leads to a file of the repo', (page) => {
  const text = readFileSync(path.join(ROOT, page), 'utf8');
  const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^(https?:|mailto:|#)/.test(l));
  for (const link of links) {
    const file = link.split('#')[0]!;
    expect({ page, link, exists: existsSync(path.resolve(ROOT, path.dirname(page), file)) }).toEqual({ page, link, exists: true });
  }
});

test.each(pages())('%s: no reference to documents outside the repo', (page) => {
  const text = readFileSync(path.join(ROOT, page), 'utf8');
  expect(text).not.toMatch(/SPEC\b|SPEC §|\bthe seeds?\b|seeds\//);
  expect(text).not.toMatch(/\.\.\/shared\//);
});

test('the pages read first exist in Chinese, and link to each other', () => {
  for (const p of ['which-flow', 'going-live', 'troubleshooting']) {
    const zh = readFileSync(path.join(ROOT, 'docs', 'zh-CN', `${p}.md`), 'utf8');
    expect(zh).toMatch(/[\u4e00-\u9fff]/);
    expect(zh).toContain(`../${p}.md`);
    expect(readFileSync(path.join(ROOT, 'docs', `${p}.md`), 'utf8')).toContain(`zh-CN/${p}.md`);
  }
});
