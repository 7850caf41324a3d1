"""The dry run (`chaosbus plan FILE`): what a run would do, predicted on a recent window.

dry_run.py   read a window of each route's source, read-only (the recorder's
             `read_window`: assigned partitions, no group, no commit, bounded by count,
             bytes and time), and predict                                     (I/O)
predict.py   the experiment's fault plan over the window, in memory         (pure)
summary.py   the prediction as a value: printed, shown to approvers, stored with a
             sign-off (docs/decisions/0253)
"""
