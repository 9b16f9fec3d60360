# duet_target_warnings(TARGET): the warning set for duet's own code. Generated
# code (the ANTLR parser) does not use it.
function(duet_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic
    -Wnon-virtual-dtor -Wimplicit-fallthrough)
  if(DUET_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
