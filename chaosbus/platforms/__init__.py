"""The no-code platforms: what each does with an event, as data, and what that means for a run.

- `profile`: one delivery profile per platform (n8n, Zapier, Make, Power Automate, Node-RED,
  a generic webhook sender), every value with its public source, from `profiles/*.yaml`;
- `presets`: a profile's habits as topic faults of the existing types
  (`faults: [{preset: zapier-autoreplay}]`), horizons of hours compressed by a stated factor;
- `scenarios`: one library scenario per platform, generated from its profile.
"""
