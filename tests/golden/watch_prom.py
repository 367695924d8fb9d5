#!/usr/bin/env python3
# A strict parser of the Prometheus text exposition format (0.0.4), for the
# watch tests: it reads a textfile or an HTTP /metrics page and fails (exit
# 1, one line per problem) on anything a scraper could misread, rather
# than comparing strings.
#
#   watch_prom.py FILE [--expect 'NAME{LABEL="V",...}' OP VALUE]... [--dump]
#
# Checks: every line is a comment, HELP, TYPE or a sample; metric and label
# names match the grammar; label values use only the \\ \" \n escapes;
# every family has exactly one HELP and one TYPE, before its samples, and
# its samples are contiguous; counters end in _total and are >= 0; a
# sample's name belongs to the family declared; no sample repeats; values
# are floats; the text ends with a newline.  --expect compares a parsed
# sample (labels unescaped) with a value (OP is ==, >=, >, <=).
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


class Bad(Exception):
    pass


def parse_value(s):
    if s in ('+Inf', 'Inf'):
        return float('inf')
    if s == '-Inf':
        return float('-inf')
    if s == 'NaN':
        return float('nan')
    if not re.fullmatch(r'[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?', s):
        raise Bad('value %r is not a float' % s)
    return float(s)


def parse_labels(s, i):
    """s[i] == '{': returns (labels, index after '}')."""
    labels = {}
    i += 1
    while True:
        if s[i:i + 1] == '}':
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise Bad('bad label name at column %d' % (i + 1))
        name = m.group(0)
        if name.startswith('__'):
            raise Bad('label name %s is reserved' % name)
        i = m.end()
        if s[i:i + 2] != '="':
            raise Bad('label %s: expected ="' % name)
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise Bad('label %s: unterminated value' % name)
            c = s[i]
            if c == '\\':
                e = s[i + 1:i + 2]
                if e not in ('\\', '"', 'n'):
                    raise Bad('label %s: bad escape \\%s' % (name, e))
                val.append('\n' if e == 'n' else e)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == '\n':
                raise Bad('label %s: raw newline' % name)
            else:
                val.append(c)
                i += 1
        if name in labels:
            raise Bad('label %s twice' % name)
        labels[name] = ''.join(val)
        if s[i:i + 1] == ',':
            i += 1
        elif s[i:i + 1] != '}':
            raise Bad('expected , or } after label %s' % name)


def parse(text):
    if not text.endswith('\n'):
        raise Bad('the text does not end with a newline')
    help_, type_, order, samples = {}, {}, [], {}
    current = None
    for no, line in enumerate(text[:-1].split('\n'), 1):
        try:
            if line.startswith('#'):
                parts = line.split(' ', 3)
                if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                    kind, name = parts[1], parts[2]
                    if not NAME.fullmatch(name):
                        raise Bad('bad metric name %r' % name)
                    rest = parts[3] if len(parts) > 3 else ''
                    if kind == 'HELP':
                        if name in help_:
                            raise Bad('second HELP for %s' % name)
                        if re.search(r'\\[^\\n]', rest) or rest.endswith('\\'):
                            raise Bad('HELP of %s: bad escape' % name)
                        help_[name] = rest
                    else:
                        if name in type_:
                            raise Bad('second TYPE for %s' % name)
                        if rest not in TYPES:
                            raise Bad('TYPE of %s: %r' % (name, rest))
                        if any(k[0] == name for k in samples):
                            raise Bad('TYPE of %s after its samples' % name)
                        type_[name] = rest
                    if name != current:
                        if name in order:
                            raise Bad('family %s is split' % name)
                        order.append(name)
                        current = name
                continue
            if not line.strip():
                raise Bad('empty line')
            m = NAME.match(line)
            if not m:
                raise Bad('bad sample name')
            name, i = m.group(0), m.end()
            labels = {}
            if line[i:i + 1] == '{':
                labels, i = parse_labels(line, i)
            if line[i:i + 1] != ' ':
                raise Bad('expected a space before the value')
            fields = line[i + 1:].split(' ')
            if not 1 <= len(fields) <= 2:
                raise Bad('expected a value and an optional timestamp')
            v = parse_value(fields[0])
            if len(fields) == 2 and not re.fullmatch(r'-?\d+', fields[1]):
                raise Bad('bad timestamp %r' % fields[1])
            if name != current:
                raise Bad('sample %s outside its family (%s)' % (name, current))
            if name not in type_ or name not in help_:
                raise Bad('sample %s before its HELP and TYPE' % name)
            if type_[name] == 'counter':
                if not name.endswith('_total'):
                    raise Bad('counter %s does not end in _total' % name)
                if not v >= 0:
                    raise Bad('counter %s is negative' % name)
            key = (name, tuple(sorted(labels.items())))
            if key in samples:
                raise Bad('sample %s%s repeats' % (name, labels))
            samples[key] = v
        except Bad as e:
            raise Bad('line %d: %s: %s' % (no, e, line[:120]))
    for name in order:
        if name not in help_ or name not in type_:
            raise Bad('%s lacks HELP or TYPE' % name)
    return type_, samples


def parse_selector(s):
    m = NAME.match(s)
    if not m:
        raise Bad('bad selector %r' % s)
    labels = {}
    if s[m.end():m.end() + 1] == '{':
        labels, end = parse_labels(s, m.end())
        if end != len(s):
            raise Bad('bad selector %r' % s)
    return (m.group(0), tuple(sorted(labels.items())))


def main(argv):
    path = argv[1]
    text = sys.stdin.read() if path == '-' else open(path, encoding='utf-8').read()
    try:
        types, samples = parse(text)
    except Bad as e:
        print('prometheus format: %s' % e)
        return 1
    rc = 0
    i = 2
    while i < len(argv):
        if argv[i] == '--dump':
            for k, v in sorted(samples.items()):
                print(k, v)
            i += 1
            continue
        if argv[i] != '--expect' or i + 3 >= len(argv):
            print('usage: watch_prom.py FILE [--expect SEL OP VALUE]...')
            return 2
        sel, op, want = argv[i + 1], argv[i + 2], float(argv[i + 3])
        key = parse_selector(sel)
        got = samples.get(key)
        good = got is not None and {'==': got == want, '>=': got >= want, '>': got > want,
                                    '<=': got <= want}[op]
        if not good:
            print('expected %s %s %g, got %s' % (sel, op, want, got))
            rc = 1
        i += 4
    print('%d families, %d samples' % (len(types), len(samples)))
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv))
