# Shared by the interleaved A/B scripts (ab_model.sh, ab_step.sh); source it, do not run it.
# ab_pairs ROUNDS A B: calls the caller's `one SIDE` for A and B, ROUNDS times, alternating
# which side runs first so the machine's drift (other processes, host clock) hits both alike.
# `one` appends "SIDE JSON" lines to "$out"; ab_summary.py then prints the pairs and ratios.
ab_pairs() {
  local r
  for r in $(seq "$1"); do
    if [ $((r % 2)) -eq 1 ]; then one "$2"; one "$3"; else one "$3"; one "$2"; fi
  done
}
