# bash completion for kiln: subcommands, options and the values an option allows, read from the
# kiln being completed (its --help), so it always matches that kiln; file names everywhere else.
# Installed as share/bash-completion/completions/kiln; to try it from a build: source this file.

# Prints "NAME TYPE" for each option in a --help text (TYPE "-" for a flag), one per line, and
# "@ SUBCOMMAND" for each subcommand.
_kiln_parse_help() {
  local line section="" rest type name
  local -a names
  while IFS= read -r line; do
    case $line in
      Options:) section=options; continue ;;
      Subcommands:) section=subcommands; continue ;;
      [![:space:]]*) section=""; continue ;;
    esac
    if [[ $section == subcommands && $line =~ ^\ \ ([a-z][^ ]*) ]]; then
      printf '@ %s\n' "${BASH_REMATCH[1]}"
    elif [[ $section == options && $line =~ ^\ \ (-[^ ]+)(.*)$ ]]; then
      IFS=, read -ra names <<<"${BASH_REMATCH[1]}"
      rest=${BASH_REMATCH[2]} type=-
      # One space then an upper-case word: the option takes a value of that type.
      [[ $rest =~ ^\ ([A-Z][^ ]*) ]] && type=${BASH_REMATCH[1]}
      for name in "${names[@]}"; do printf '%s %s\n' "$name" "$type"; done
    fi
  done
}

_kiln() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local kiln=${COMP_WORDS[0]} i word parsed
  local -a path=()
  parsed=$("$kiln" --help 2>/dev/null | _kiln_parse_help) || return
  # Walk the words typed so far down the subcommands they name.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    if [[ $word != -* ]] && grep -qxF -- "@ $word" <<<"$parsed"; then
      path+=("$word")
      parsed=$("$kiln" "${path[@]}" --help 2>/dev/null | _kiln_parse_help)
    fi
  done

  # After an option that takes a value: its choices ({a,b,c} in the type), else file names.
  if [[ $prev == -* ]]; then
    local type
    type=$(awk -v name="$prev" '$1 == name { print $2; exit }' <<<"$parsed")
    if [[ -n $type && $type != - ]]; then
      if [[ $type =~ \{([^}]*)\} ]]; then
        mapfile -t COMPREPLY < <(compgen -W "${BASH_REMATCH[1]//,/ }" -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      fi
      return
    fi
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(awk '$1 != "@" { print $1 }' <<<"$parsed")" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -W "$(awk '$1 == "@" { print $2 }' <<<"$parsed")" -- "$cur")
    ((${#COMPREPLY[@]})) || mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  fi
}
complete -o filenames -F _kiln kiln
