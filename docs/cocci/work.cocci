// A work item initialised in a file that never cancels or flushes it (file-level).
@w@
expression E;
identifier fld, fn;
position p;
@@
(
INIT_WORK@p(&E->fld, fn);
|
INIT_DELAYED_WORK@p(&E->fld, fn);
)

@c@
expression E2;
identifier w.fld;
@@
(
cancel_work_sync(&E2->fld)
|
cancel_delayed_work_sync(&E2->fld)
|
cancel_delayed_work(&E2->fld)
|
cancel_work(&E2->fld)
|
flush_work(&E2->fld)
|
flush_delayed_work(&E2->fld)
)

@script:python depends on !c@
p << w.p;
fld << w.fld;
@@
print("%s:%s: work %s is never cancelled or flushed" % (p[0].file, p[0].line, fld))
