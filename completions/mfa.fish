complete --keep-order --exclusive --command mfa --arguments "(COMPLETE=fish mfa -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
