# placeholder: regenerate with make completions
