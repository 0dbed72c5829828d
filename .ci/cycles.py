"""Module import cycles inside a crate: each module (a file, or a folder with mod.rs) and the
sibling modules it names through `crate::…`/`super::…`; prints the graph and any cycle."""
import re, os, sys, glob

def mods_of(dirpath, entry):
    src = open(os.path.join(dirpath, entry)).read()
    return re.findall(r'^\s*(?:pub(?:\(\w+\))? )?mod (\w+);', src, re.M)

def files_of(dirpath, m):
    if os.path.isdir(os.path.join(dirpath, m)):
        return glob.glob(os.path.join(dirpath, m, '**', '*.rs'), recursive=True)
    return [os.path.join(dirpath, m + '.rs')]

def graph(dirpath, entry, prefix):
    mods = mods_of(dirpath, entry)
    g = {}
    for m in mods:
        refs = set()
        for p in files_of(dirpath, m):
            s = open(p).read().split('#[cfg(test)]')[0]
            for path in re.findall(prefix + r'((?:\w+::)*\w+|\{[^;]*\})', s):
                for x in re.findall(r'\b(\w+)\b', path):
                    if x in mods and x != m:
                        refs.add(x)
        g[m] = refs
    return g

def cycles(g):
    found, state = [], {}
    def visit(n, stack):
        state[n] = 1
        for x in sorted(g[n]):
            if state.get(x) == 1:
                found.append(stack[stack.index(x):] + [x])
            elif x not in state:
                visit(x, stack + [x])
        state[n] = 2
    for n in g:
        if n not in state:
            visit(n, [n])
    return found

bad = 0
for crate_dir, entry, sub in [('proxy/src', 'lib.rs', ['serve', 'session', 'bridge']),
                              ('web/src', 'main.rs', ['state', 'components'])]:
    g = graph(crate_dir, entry, r'crate::')
    c = cycles(g)
    print(crate_dir, 'cycles:', c or 'none')
    bad += len(c)
    for s in sub:
        d = os.path.join(crate_dir, s)
        g = graph(d, 'mod.rs', r'(?:super|crate::' + s + r')::')
        c = cycles(g)
        print(' ', d, 'cycles:', c or 'none')
        bad += len(c)
sys.exit(1 if bad else 0)
