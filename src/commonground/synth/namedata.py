"""Name lists for the synthetic area: given names by sex and birth cohort, family names, nicknames.

Lists are in rough order of popularity (the generator gives them Zipf-like weights by rank).
The British given-name cohorts follow the shape of the ONS baby-name tables and older birth
registers; the other lists are common names of communities that live in English towns. No
list pairs a name with a real person. Family names get a long synthetic tail in ``names.py``.
Each list is written as words separated by white space (no name here contains a space).
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Birth-cohort upper bounds (year of birth, exclusive) for the British given-name lists.
COHORT_BOUNDS = (1950, 1970, 1990, 2010, 9999)

BRITISH_FEMALE: tuple[tuple[str, ...], ...] = (
    _words("""
    Margaret Joan Dorothy Mary Jean Betty Doris Joyce Irene Eileen Kathleen Barbara Patricia Sheila
    Audrey Pamela Sylvia Elizabeth Brenda Maureen Iris Marjorie Vera Edna Winifred Gladys Peggy
    Catherine Rita Olive Nora Hilda Ivy June Evelyn
"""),
    _words("""
    Susan Linda Christine Margaret Janet Patricia Carol Elizabeth Mary Anne Jacqueline Julie Sandra
    Karen Gillian Pauline Valerie Lynne Deborah Jennifer Angela Wendy Catherine Diane Alison Helen
    Judith Kathleen Maureen Denise Jane Sally Hazel Rosemary Frances Siân
"""),
    _words("""
    Sarah Claire Emma Nicola Lisa Michelle Kelly Karen Rachel Joanne Samantha Gemma Louise Helen
    Amanda Julie Victoria Catherine Rebecca Donna Tracey Deborah Elizabeth Laura Lindsey Natalie
    Kirsty Stacey Katherine Zoë Clare Leanne Hayley Kathryn Jennifer Melanie Dawn Siobhán Rhiannon
"""),
    _words("""
    Jessica Lauren Sophie Chloe Emily Rebecca Hannah Charlotte Amy Laura Megan Ellie Georgia Bethany
    Olivia Holly Abigail Katie Lucy Jade Samantha Danielle Rachel Shannon Courtney Emma Amber
    Natasha Paige Zoe Molly Eleanor Grace Elizabeth Kayleigh Ffion Aoife Niamh
"""),
    _words("""
    Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Florence Emily Ella
    Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Harper Matilda Ruby Isabelle Alice
    Maya Millie Esme Ellie Aria Lottie Erin Harriet Seren Eliza
"""),
)
BRITISH_MALE: tuple[tuple[str, ...], ...] = (
    _words("""
    John William George Kenneth Ronald Roy Dennis Frank Arthur Albert Ernest Harold Thomas James
    Robert Stanley Peter Leonard Frederick Donald Alfred Raymond Charles Edward Walter Eric Norman
    Sidney Jack Henry Cyril Leslie Douglas Gordon Reginald
"""),
    _words("""
    John David Michael Peter Robert Paul Stephen Alan Richard Brian Keith Anthony Christopher Ian
    Philip Graham Colin Martin Kevin Andrew Geoffrey Trevor Barry Terence Nigel Gary Malcolm Roger
    Steven Mark Patrick Dafydd Gareth Neil Kenneth
"""),
    _words("""
    David Paul Mark Andrew Michael Richard Stephen Christopher Darren Lee Craig Matthew Daniel James
    Jason Simon Robert Gary Steven Neil Carl Dean Wayne Jonathan Anthony Scott Martin Stuart Ian
    Thomas Philip Adam Gareth Sean Kevin Jamie Rhys Seán
"""),
    _words("""
    Jack Thomas James Joshua Daniel Matthew Samuel Luke Ryan Adam Callum Lewis Connor Jordan Liam
    Benjamin William Harry Joseph Nathan Jake Alexander Michael Ben Oliver Bradley Kieran Jamie
    Reece Aaron Christopher George Dylan Cameron Tyler Owen Rhys Charlie
"""),
    _words("""
    Oliver George Noah Arthur Harry Leo Muhammad Jack Charlie Oscar Jacob Henry Thomas Freddie Alfie
    Theo William Theodore Archie Joshua Alexander James Isaac Edward Lucas Tommy Finley Max Logan
    Ethan Teddy Benjamin Arlo Reggie Louie Hugo Albie Elijah Jude Rory
"""),
)

SOUTH_ASIAN_FEMALE = _words("""
Fatima Aisha Zainab Maryam Ayesha Amina Sana Hira Nadia Priya Anjali Sunita Nasreen Shabana Rukhsana
Farzana Samina Parveen Safiya Hafsa Khadija Noor Zara Inaya Anaya Simran Harpreet Gurpreet Kiran
Neha Pooja Shazia Yasmin Rehana Sadia
""")
SOUTH_ASIAN_MALE = _words("""
Muhammad Mohammed Ahmed Ali Omar Hassan Yusuf Ibrahim Imran Tariq Asif Zubair Bilal Hamza Usman
Abdul Arjun Rajesh Sanjay Vikram Harjit Gurdeep Jaspreet Amir Zain Ayaan Rayyan Shahid Naveed Kamran
Adil Faisal Rahul Sunil Aryan
""")
EAST_EUROPEAN_FEMALE = _words("""
Anna Zuzanna Julia Maja Zofia Natalia Katarzyna Agnieszka Magdalena Aleksandra Monika Joanna Ewa
Karolina Marta Oliwia Alicja Ioana Elena Andreea Ana Daria Irina Kristina Lenka
""")
EAST_EUROPEAN_MALE = _words("""
Jakub Kacper Szymon Filip Jan Piotr Tomasz Krzysztof Paweł Michał Łukasz Marcin Mateusz Adrian
Andrei Mihai Ionuț Alexandru Bogdan Dmitri Marek Pavel Vasile Gabriel Adam
""")
AFRICAN_FEMALE = _words("""
Blessing Grace Chioma Ngozi Adaeze Funmilayo Abimbola Comfort Precious Esther Amara Ifeoma Nneka
Folake Yetunde Ama Akosua Abena Faith Favour Hodan Amina Sagal Temitope Oluwaseun
""")
AFRICAN_MALE = _words("""
Emmanuel Samuel David Daniel Chinedu Oluwaseun Tunde Kwame Kofi Olumide Babajide Ikenna Chukwuemeka
Obinna Femi Segun Mohamed Abdi Ahmed Kwabena Yaw Joshua Michael Isaac Tobi
""")
BRITISH_FAMILY = _words("""
Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson
Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Jackson Wood Turner Martin Cooper
Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis
Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw
Murphy Miller Cox Richards Marshall Anderson Simpson Ellis Adams Wilkinson Foster Chapman Powell
Webb Rogers Gray Mason Hunt Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler
Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Fletcher Walsh Gibson
Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole
Atkinson Bradley Spencer Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells
Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh
Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver
Reed Kennedy Williamson Bird Gardner Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton
Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald
Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss McCarthy Chambers O'Neill
Griffin Sharp Hardy Wheeler Potter Osborne Johnston Gordon Doyle Wallace George Jordan Hutchinson
Rowe Burke May Pritchard Gilbert Willis Higgins Read Miles Stevenson Stephenson Hammond Arnold
Buckley Walters Hewitt Barber Nelson Slater Austin Sullivan Whitehead Mann Frost Lambert Stephens
Blake Lynch Goodwin Barton Woodward Thomson Cunningham Quinn Barnett Baxter Clayton Nash Greenwood
Jennings Holt Kemp Poole Gallagher Bond Stokes Tucker Davidson Fowler Heath Norman Middleton Lawson
Banks French Stanley Jarvis Gibbs Ferguson Hayward Carroll Douglas Dickinson Todd Barlow Peters
Lucas Knowles Hartley Simmons Morton Alexander Field Morrison Norris Townsend Preston Hancock
Thornton Baldwin Burrows Briggs Pollard Howell Sheppard Fraser Llewellyn Vaughan Pugh Rowlands
Jenkinson Donnelly Doherty McLaughlin
""")
SOUTH_ASIAN_FAMILY = _words("""
Patel Khan Begum Hussain Ali Ahmed Singh Kaur Shah Akhtar Bibi Iqbal Mahmood Rahman Islam Uddin Miah
Chaudhry Sharma Kumar Mistry Parmar Ahmad Hassan Malik Aziz Rashid Javed Siddiqui Qureshi Butt Raja
Sandhu Gill Dhillon Chopra Desai Mehta Joshi Lal
""")
EAST_EUROPEAN_FAMILY = _words("""
Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak
Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk Popescu Ionescu Popa Dumitru Stoica
Constantin Horváth Novák Petrov
""")
AFRICAN_FAMILY = _words("""
Okafor Adeyemi Okonkwo Mensah Osei Boateng Adebayo Eze Nwosu Ogunleye Afolabi Owusu Asante Oyelaran
Balogun Mohamed Abdi Hassan Ibrahim Oduya Achebe Nwachukwu Okoro Agyeman Danso
""")

# A long tail of family names is composed from these parts (Ashworth, Thornbury, Halbridge...).
TAIL_PREFIXES = _words("""
Ash Brad Thorn Hal Wick Brom Cal Dun Elm Fern Gar Hart Kirk Lang Mel Nor Pen Rad Shel Tam Wal Whit
Wy Ald Bex Chad Cres Dal Eas Fair Glen Hather Ing Lock Marl Ned Ox Pit Rother Sand Stan Tol Up Ver
Wes Yar Bar Bur Cop Crom Dray Eg Fel Hol Hum Ken Lath Mor Nut Ock Pres Ray Sut Tad Wil Win Brent
Carl Cleve Haw Lyn Ruth Sher Stock Thurl War Wood Black Brook
""")
TAIL_SUFFIXES = _words("""
worth ley ton bridge ham field ford by combe den well wood stone more bury cott hurst wick stead
dale hill low shaw thorpe croft gate land ridge brook mere ington sley ingham cliffe ard ett ell son
er man
""")

# Nicknames and alternative spellings a partner might record instead of the registered name:
# one line each, the registered name first. A variant may contain a space (written with "_").
_NICKNAME_LINES = """
Robert Bob Rob Robbie Bobby
William Bill Will Billy Liam
Elizabeth Liz Beth Lizzie Betty Eliza
Catherine Kathryn Katherine Kate Cathy
Katherine Catherine Kate Kathy Katie
Kathryn Catherine Kate Kath
Margaret Maggie Peggy Meg Margo
Michael Mike Mick Mickey
James Jim Jimmy Jamie
Thomas Tom Tommy
Christopher Chris Kit
Jonathan Jon Jonny
Daniel Dan Danny
Matthew Matt Mat
Anthony Tony Antony
Stephen Steve Steven
Steven Steve Stephen
Richard Rich Rick Richie Dick
Edward Ed Eddie Ted Ned
Alexander Alex Sandy Xander
Samuel Sam Sammy
Samantha Sam Sammy
Joseph Joe Joey
Benjamin Ben Benji
Nicholas Nick Nicky
Andrew Andy Drew
David Dave Davey Dai
Peter Pete
Jennifer Jenny Jen
Rebecca Becky Becca
Victoria Vicky Tori
Susan Sue Susie
Patricia Pat Trish
Deborah Debbie Deb Debra
Jessica Jess Jessie
Charlotte Charlie Lottie
Amelia Millie Amy
Oliver Ollie
Charles Charlie Chas
Henry Harry Hal
Frederick Fred Freddie
Alfred Alf Alfie
Muhammad Mohammed Mohammad Mohamed
Mohammed Muhammad Mohammad Mohamed
Siân Sian
Zoë Zoe
Zoe Zoë
Claire Clare
Clare Claire
Sarah Sara
Gemma Jemma
Stacey Stacy
Katie Katy Kate
Lewis Louis
Isabella Bella Izzy
Isabelle Izzy Isabel
Abigail Abbie Abby
Philip Phil Phillip
Kenneth Ken Kenny
Ronald Ron Ronnie
Donald Don
Leonard Len Lenny
Terence Terry
Raymond Ray
Dorothy Dot Dottie
Timothy Tim
Theodore Theo Teddy
Jacob Jake
Joshua Josh
Nathan Nate
Natalie Nat
Gareth Gaz
Gary Gaz
Kirsty Kirstie
Lindsey Lindsay
Hayley Haley
Leanne Lee-Anne
Kayleigh Kayley
Eleanor Ellie Nell
Harriet Hattie
Florence Flo Florrie
Matilda Tilly
Elsie Elise
Archibald Archie
Archie Archibald
Freddie Frederick Fred
Alfie Alfred
Harry Henry Harold
Jack John Jackie
John Jack Johnny Jon
Seán Sean Shaun
Sean Shaun Seán
Siobhán Siobhan
Dafydd Dai David
Aleksandra Ola Alexandra
Katarzyna Kasia Katherine
Małgorzata Gosia
Paweł Pawel Paul
Michał Michal Michael
Łukasz Lukasz Luke
Piotr Peter
Jakub Kuba Jacob
Ionuț Ionut
Oluwaseun Seun
Olumide Mide
Babajide Jide
Chukwuemeka Emeka
Temitope Tope
Abimbola Bimbo
Funmilayo Funmi
Mohamed Mohammed Muhammad
Fatima Fatma
Ayesha Aisha
Aisha Ayesha
Yusuf Yousef Joseph
Ibrahim Ebrahim
Harpreet Harpreet_Kaur
Gurdeep Gurdip
"""
NICKNAMES: dict[str, tuple[str, ...]] = {
    line.split()[0]: tuple(v.replace("_", " ") for v in line.split()[1:])
    for line in _NICKNAME_LINES.strip().splitlines()
}
