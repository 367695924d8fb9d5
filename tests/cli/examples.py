#!/usr/bin/env python3
# The examples of README.md and docs/*.8, run as written and compared with
# what they show (TAP on stdout).
#
#   examples.py MBECSCOPE-BINARY-DIR
#
# An example is a command line shown with a prompt followed by its output
# lines (README: a code block indented by 4; man pages: a .nf block).  "$ "
# examples need no privilege and all run.  "# " examples need root and KVM
# and are skipped, except replays (`replay`, `--replay`), which need
# neither: they run on the committed fixtures, copied under the names the
# examples use (run.mbr, capture.txt, workload.mbr).  Live examples are
# listed as not run (their numbers are one machine's at one moment).
#
# Output matching: "..." inside a line matches any text; a line that is only
# "..." stands for any number of lines; otherwise the lines shown must be
# the lines printed, in order, with nothing between them, and, unless the
# example starts with "...", from the first line printed.  What follows the
# last line shown may be left out.
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

top = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
fx = os.path.join(top, 'tests', 'golden', 'fixtures')


def man_text(s):
    return s.replace('\\-', '-').replace('\\&', '').replace('\\e', '\\')


def readme_examples(path):
    out, cur = [], None
    for raw in open(path):
        line = raw.rstrip('\n')
        if not line.startswith('    ') or not line.strip():
            cur = None
            continue
        body = line[4:]
        if body.startswith('$ ') or body.startswith('# '):
            cur = {'prompt': body[0], 'cmd': body[2:], 'want': [], 'where': path}
            out.append(cur)
        elif cur is not None:
            if cur['cmd'].endswith('|') and not cur['want']:
                cur['cmd'] += ' ' + body.strip()
            else:
                cur['want'].append(body.rstrip())
    return out


def man_examples(path):
    out, cur, nf = [], None, False
    for raw in open(path):
        line = raw.rstrip('\n')
        if line.startswith('.nf'):
            nf = True
            continue
        if line.startswith('.fi') or line.startswith('.RE'):
            nf = nf and not line.startswith('.fi')
            cur = None
            continue
        if not nf or line.startswith('.'):
            continue
        text = man_text(line)
        if text.startswith('$ ') or text.startswith('# '):
            cur = {'prompt': text[0], 'cmd': text[2:], 'want': [], 'where': path}
            out.append(cur)
        elif cur is not None:
            cur['want'].append(text.rstrip())
    return out


def line_re(want):
    return re.compile('^' + '.*'.join(re.escape(p) for p in want.split('...')) + '$')


def matches(want, got):
    """None when got (a list of lines) is what want shows, else why not."""
    segs, seg = [], []
    lead = bool(want) and want[0].strip() == '...'
    for w in want:
        if w.strip() == '...':
            if seg:
                segs.append(seg)
            seg = []
        else:
            seg.append(line_re(w))
    if seg:
        segs.append(seg)
    pos = 0
    for k, seg in enumerate(segs):
        anchored = k == 0 and not lead
        found = None
        starts = [pos] if anchored else range(pos, len(got) - len(seg) + 1)
        for s in starts:
            if s + len(seg) <= len(got) and all(r.match(got[s + i]) for i, r in enumerate(seg)):
                found = s
                break
        if found is None:
            return 'no match for %r (from output line %d)' % (seg[0].pattern, pos + 1)
        pos = found + len(seg)
    return None


def runnable(ex):
    if ex['prompt'] == '$':
        return True
    words = ex['cmd'].split()
    return bool(words) and words[0] in ('mbecscope', 'mbectop') and \
        ('replay' in words[1:2] or '--replay' in words)


def main():
    bindir = os.path.abspath(sys.argv[1])
    examples = readme_examples(os.path.join(top, 'README.md'))
    for man in sorted(os.listdir(os.path.join(top, 'docs'))):
        if man.endswith('.8'):
            examples += man_examples(os.path.join(top, 'docs', man))
    work = tempfile.mkdtemp()
    try:
        shutil.copy(os.path.join(fx, 'workload.mbr'), os.path.join(work, 'run.mbr'))
        shutil.copy(os.path.join(fx, 'workload.mbr'), os.path.join(work, 'workload.mbr'))
        with gzip.open(os.path.join(fx, 'workload-capture.trace.gz'), 'rb') as f:
            open(os.path.join(work, 'capture.txt'), 'wb').write(f.read())
        os.symlink(os.path.join(top, 'tests'), os.path.join(work, 'tests'))
        env = dict(os.environ, PATH=bindir + ':' + os.environ['PATH'])
        n = failed = 0
        for ex in examples:
            name = '%s: %s %s' % (os.path.relpath(ex['where'], top), ex['prompt'], ex['cmd'])
            if not runnable(ex):
                # Live runs: their output is this machine's, not the example's.
                print('# not run (a live example, needs root and KVM): %s' % name)
                continue
            n += 1
            r = subprocess.run(['bash', '-c', ex['cmd']], cwd=work,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=120)
            got = [l.rstrip() for l in r.stdout.decode(errors='replace').split('\n')]
            while got and not got[-1]:
                got.pop()
            # A replay that finds anomalies exits 1: the examples show such runs.
            why = matches(ex['want'], got)
            if r.returncode not in (0, 1):
                why = 'exit %d: %s' % (r.returncode, r.stderr.decode(errors='replace')[:300])
            if why:
                failed += 1
                print('not ok %d - %s' % (n, name))
                print('# ' + why)
                for l in got[:25]:
                    print('# | ' + l)
            else:
                print('ok %d - %s' % (n, name))
        print('1..%d' % n)
        return 1 if failed else 0
    finally:
        shutil.rmtree(work)


if __name__ == '__main__':
    sys.exit(main())
