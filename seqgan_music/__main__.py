from seqgan_music.cli import main

main()
