// A return inside a drm_bridge_enter() section, with no drm_bridge_exit() before it.
@r exists@
expression b, idx;
statement S;
position p;
@@
if (!drm_bridge_enter(b, &idx)) S
... when != drm_bridge_exit(idx)
    when any
return@p ...;

@script:python@
p << r.p;
@@
print("%s:%s: return inside a drm_bridge_enter() section" % (p[0].file, p[0].line))
