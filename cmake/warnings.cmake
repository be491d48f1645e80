# Warning and sanitizer flags applied to every target of ours (not to third-party headers).
set(PYTHIA_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
    -Wimplicit-fallthrough)
if(PYTHIA_WERROR)
  list(APPEND PYTHIA_WARNINGS -Werror)
endif()
set(PYTHIA_SANITIZER_FLAGS "")
if(PYTHIA_SANITIZE)
  set(PYTHIA_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
endif()
function(pythia_target_flags target)
  target_compile_options(${target} PRIVATE ${PYTHIA_WARNINGS} ${PYTHIA_SANITIZER_FLAGS})
  if(PYTHIA_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  if(PYTHIA_SANITIZE)
    target_link_options(${target} PRIVATE ${PYTHIA_SANITIZER_FLAGS})
  endif()
endfunction()
# ThreadSanitizer (preset `tsan`): every target, ours and the test shims, instrumented; the TBB
# headers compiled with TBB_USE_PROFILING_TOOLS=2 so that spawns and waits call the ITT sync
# notifications the bridge in tests/tsan/ hands to TSan (the uninstrumented libtbb's own
# synchronisation is invisible to TSan otherwise).
if(PYTHIA_TSAN)
  if(PYTHIA_SANITIZE)
    message(FATAL_ERROR "PYTHIA_TSAN and PYTHIA_SANITIZE (ASan) cannot be combined")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -DTBB_USE_PROFILING_TOOLS=2)
  add_link_options(-fsanitize=thread)
endif()
